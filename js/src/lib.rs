//! Builds the JS module and runs its Node tests (see tests/).
