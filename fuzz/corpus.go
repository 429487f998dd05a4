package fuzz

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// CorpusFile is one file of the corpus: leading `# key: value` comment lines, then the request
// bytes in the escaped form of Escape.
type CorpusFile struct {
	Path string
	Meta map[string]string
	Note []string // comment lines that are not key: value
	Raw  []byte
}

// ReadCorpusFile reads one corpus file.
func ReadCorpusFile(path string) (*CorpusFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	f := &CorpusFile{Path: path, Meta: map[string]string{}}
	lines := strings.SplitAfter(string(data), "\n")
	i := 0
	for ; i < len(lines); i++ {
		l := strings.TrimRight(lines[i], "\r\n")
		if !strings.HasPrefix(l, "#") {
			break
		}
		c := strings.TrimSpace(strings.TrimPrefix(l, "#"))
		if k, v, ok := strings.Cut(c, ":"); ok && !strings.ContainsAny(k, " \t") && k != "" {
			f.Meta[k] = strings.TrimSpace(v)
		} else {
			f.Note = append(f.Note, c)
		}
	}
	raw, err := Unescape(strings.Join(lines[i:], ""))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(raw) == 0 {
		return nil, fmt.Errorf("%s: no request bytes", path)
	}
	f.Raw = raw
	return f, nil
}

// ReadCorpus reads every *.req file under the folders, sorted by path (deterministic order).
func ReadCorpus(dirs ...string) ([]*CorpusFile, error) {
	var paths []string
	for _, d := range dirs {
		m, err := filepath.Glob(filepath.Join(d, "*.req"))
		if err != nil {
			return nil, err
		}
		paths = append(paths, m...)
	}
	sort.Strings(paths)
	var out []*CorpusFile
	for _, p := range paths {
		f, err := ReadCorpusFile(p)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

// WriteCorpusFile writes meta (in the order of keys), notes and the escaped bytes.
func WriteCorpusFile(path string, keys []string, meta map[string]string, notes []string, raw []byte) error {
	var b strings.Builder
	for _, k := range keys {
		if v, ok := meta[k]; ok {
			fmt.Fprintf(&b, "# %s: %s\n", k, oneLine(v))
		}
	}
	for _, n := range notes {
		fmt.Fprintf(&b, "# %s\n", oneLine(n))
	}
	b.WriteString(Escape(raw))
	if !strings.HasSuffix(b.String(), "\n") {
		b.WriteString("\n")
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\r", `\r`)
	return strings.ReplaceAll(s, "\n", `\n`)
}
