from ndlld.cli import cli

cli()
