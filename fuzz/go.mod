module countersign.local/fuzz

go 1.26.0
