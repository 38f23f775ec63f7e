//! cgroups v1, hybrid and v2. (Owned by the cgroups work.)
