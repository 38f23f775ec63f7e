//! Landlock policies. (Owned by the Landlock work.)
