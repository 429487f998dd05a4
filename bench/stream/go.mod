module countersign.local/bench/stream

go 1.22
