"""Self-contained HTML pages (inline CSS and SVG, no script, no external URL).

- page.py: what every page shares - the jinja2 environment, formatting filters, writing and opening
- run_data.py: a run's page as dataclasses, from the loaded summary and comparison
- run_page.py: renders it (`perfkit report`)
- attention.py: the verdict banner and what needs attention
- series.py: latency and throughput series from the raw hey CSVs
- resources.py: resource-use series from resources.jsonl
- charts.py: matplotlib figures as inline SVG
- compare_page.py: several runs side by side (`perfkit report-compare`)
- master_data.py: run-all.sh's master page as dataclasses
- master_page.py: renders it (`perfkit report-master`)
"""
