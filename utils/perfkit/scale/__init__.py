"""run-advanced.sh's scalability report (`perfkit advanced`).

- points.py: advanced.json - what was asked for and one point per database and server count
- data.py: scalability per database, PostgreSQL vs SQLite; owns scalability.json
- sweep.py: the concurrency sweep - figures per client count, knee, pool saturation, plateau
- charts.py: scaling and sweep charts as inline SVG
- text.py: the plain-text summary
- html.py: the page
- cli.py: the command line (init, add-point, report)
"""
