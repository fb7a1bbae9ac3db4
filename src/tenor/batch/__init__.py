"""The daily close over the whole book: a pure columnar step and the engines that run it."""
