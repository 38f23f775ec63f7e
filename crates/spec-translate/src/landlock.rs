//! `process.landlock` / the `run.oci.landlock` annotation. (Owned by the Landlock work.)
