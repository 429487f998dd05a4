// Command csfuzz runs Countersign's differential fuzzer (see fuzz/README.md).
//
//	csfuzz -repo . -cases 2000 -seed 1 -concurrency 4
//	csfuzz -repo . -replay fuzz/corpus/repro/x.req
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	fuzz "countersign.local/fuzz"
)

func main() {
	repo := flag.String("repo", ".", "the repository root (bin/countersign, .tools/bin/opa, fuzz/)")
	engine := flag.String("engine", "wasm", "the proxy's policy engine: wasm or opa (managed OPA child process)")
	seed := flag.Uint64("seed", 1, "the generator's seed: the same seed makes the same cases")
	cases := flag.Int("cases", 1000, "generated cases, after the corpus files")
	dur := flag.Duration("max-duration", 0, "stop generating after this long (0: no limit)")
	conc := flag.Int("concurrency", 4, "connections in flight")
	corpus := flag.String("corpus", "", "comma-separated corpus folders (default fuzz/corpus/seeds,fuzz/corpus/repro)")
	repro := flag.String("repro-dir", "", "write one minimized reproducer per discrepancy class here (empty: none)")
	minimize := flag.Int("minimize", 150, "replays allowed to minimize each reproducer")
	openFile := flag.String("open", "", "the open list (default fuzz/corpus/open.txt)")
	replay := flag.String("replay", "", "replay these corpus files (comma-separated) one at a time and print every check")
	answers := flag.Bool("answers", false, "the answer side (issue 19): a hostile upstream sends -cases mutated answers; each must reach the agent as the ledger records it, or as a 502/504, and never with the route's credential")
	flag.Parse()

	root, err := filepath.Abs(*repo)
	if err != nil {
		fail(err)
	}
	if *corpus == "" {
		*corpus = filepath.Join(root, "fuzz/corpus/seeds") + "," + filepath.Join(root, "fuzz/corpus/repro")
	}
	if *openFile == "" {
		*openFile = filepath.Join(root, "fuzz/corpus/open.txt")
	}
	if *replay != "" {
		os.Exit(fuzz.Replay(root, *engine, strings.Split(*replay, ","), os.Stdout))
	}
	if *answers {
		rep, err := fuzz.RunAnswers(fuzz.AnswerOptions{Repo: root, Engine: *engine, Seed: *seed, Cases: *cases, MaxDuration: *dur,
			Concurrency: *conc, OpenFile: *openFile, Out: os.Stdout})
		if err != nil {
			fail(err)
		}
		rep.Print(os.Stdout)
		if bad := rep.Failed(); len(bad) > 0 {
			fmt.Printf("csfuzz answers: FAILED: discrepancy classes not in the open list: %s\n", strings.Join(bad, ", "))
			os.Exit(1)
		}
		fmt.Printf("csfuzz answers: OK (%s)\n", rep.Elapsed.Round(time.Millisecond))
		return
	}
	rep, err := fuzz.Run(fuzz.Options{Repo: root, Engine: *engine, Seed: *seed, Cases: *cases, MaxDuration: *dur,
		Concurrency: *conc, CorpusDirs: strings.Split(*corpus, ","), ReproDir: *repro, OpenFile: *openFile,
		Minimize: *minimize, Out: os.Stdout})
	if err != nil {
		fail(err)
	}
	rep.Print(os.Stdout)
	if bad := rep.Failed(); len(bad) > 0 {
		fmt.Printf("csfuzz: FAILED: discrepancy classes not in the open list: %s\n", strings.Join(bad, ", "))
		os.Exit(1)
	}
	fmt.Printf("csfuzz: OK (%s)\n", time.Duration(rep.Elapsed).Round(time.Millisecond))
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "csfuzz:", err)
	os.Exit(2)
}
