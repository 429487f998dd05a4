module countersign.bench/approvals

go 1.21
