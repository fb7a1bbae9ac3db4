"""``tenor`` subcommands beyond the core ones, one module per capability, each with register()."""
