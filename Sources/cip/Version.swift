/// The version of the sources this binary was built from (`cip --version`); raised with each release.
let cipVersion = "0.13.0"
