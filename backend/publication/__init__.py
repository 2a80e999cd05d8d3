"""执法公示: decisions published on a public page, masked, withdrawn with a reason."""
