"""One test harness for the whole suite (``tests/support``): running async bodies with a hard
deadline and polling for a condition. Test files import it as ``support``."""
