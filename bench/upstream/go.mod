module countersign.local/bench/upstream

go 1.22
