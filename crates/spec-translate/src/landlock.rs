//! `process.landlock` / the `run.oci.landlock` annotation: the Landlock policy of a container.
//!
//! The shape is the one proposed for the runtime spec (opencontainers/runtime-spec pull requests
//! 1111 and 1241), extended with the rights newer kernels add (network ports, scopes, `refer`,
//! `truncate`, `ioctl_dev`, ...). docs/LANDLOCK.md documents it. This module only checks the JSON;
//! paths are opened and the kernel's ABI is consulted by `isolation::landlock::apply`.

use crate::error::{Result, TranslateError};
use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// The annotation that carries the same JSON as a string (for `--annotation` users).
pub const ANNOTATION: &str = "run.oci.landlock";

/// Declares one family of rights: the enum, its spelling in the JSON and the first Landlock ABI
/// that knows it. One table, so the parser, the docs and `features` cannot disagree.
macro_rules! rights {
    ($(#[$m:meta])* $ty:ident { $($var:ident = $name:literal @ $abi:literal,)* }) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $ty { $($var,)* }

        impl $ty {
            /// Every right of this family, in ABI order.
            pub const ALL: &'static [$ty] = &[$($ty::$var,)*];

            /// The spelling used in the JSON.
            pub fn name(self) -> &'static str {
                match self { $($ty::$var => $name,)* }
            }

            /// The first Landlock ABI version that knows this right.
            pub fn min_abi(self) -> i32 {
                match self { $($ty::$var => $abi,)* }
            }

            pub fn from_name(s: &str) -> Option<Self> {
                match s { $($name => Some($ty::$var),)* _ => None }
            }
        }
    };
}

rights! {
    /// A filesystem access right (`LANDLOCK_ACCESS_FS_*`).
    FsRight {
        Execute = "execute" @ 1,
        WriteFile = "write_file" @ 1,
        ReadFile = "read_file" @ 1,
        ReadDir = "read_dir" @ 1,
        RemoveDir = "remove_dir" @ 1,
        RemoveFile = "remove_file" @ 1,
        MakeChar = "make_char" @ 1,
        MakeDir = "make_dir" @ 1,
        MakeReg = "make_reg" @ 1,
        MakeSock = "make_sock" @ 1,
        MakeFifo = "make_fifo" @ 1,
        MakeBlock = "make_block" @ 1,
        MakeSym = "make_sym" @ 1,
        Refer = "refer" @ 2,
        Truncate = "truncate" @ 3,
        IoctlDev = "ioctl_dev" @ 5,
        ResolveUnix = "resolve_unix" @ 9,
    }
}

rights! {
    /// A network access right (`LANDLOCK_ACCESS_NET_*`).
    NetRight {
        BindTcp = "bind_tcp" @ 4,
        ConnectTcp = "connect_tcp" @ 4,
        BindUdp = "bind_udp" @ 10,
        ConnectSendUdp = "connect_send_udp" @ 10,
    }
}

rights! {
    /// An IPC scope (`LANDLOCK_SCOPE_*`).
    ScopeRight {
        AbstractUnixSocket = "abstract_unix_socket" @ 6,
        Signal = "signal" @ 6,
    }
}

impl FsRight {
    /// True when the right means something on a non-directory; the kernel refuses the others in
    /// a rule whose path is a file.
    pub fn applies_to_files(self) -> bool {
        matches!(
            self,
            FsRight::Execute
                | FsRight::WriteFile
                | FsRight::ReadFile
                | FsRight::Truncate
                | FsRight::IoctlDev
                | FsRight::ResolveUnix
        )
    }
}

/// A validated Landlock policy. Rules keep the order of the JSON so errors can name them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LandlockPolicy {
    /// `ruleset.handledAccessFS`: filesystem rights denied unless a rule allows them.
    pub handled_fs: BTreeSet<FsRight>,
    /// `ruleset.handledAccessNet`: network rights denied unless a rule allows them.
    pub handled_net: BTreeSet<NetRight>,
    /// `ruleset.scoped`: IPC that may not leave the Landlock domain.
    pub scoped: BTreeSet<ScopeRight>,
    /// `rules.pathBeneath`.
    pub path_beneath: Vec<PathBeneathRule>,
    /// `rules.netPort`.
    pub net_port: Vec<NetPortRule>,
    /// `disableBestEffort`: fail instead of dropping rights the kernel does not know.
    pub disable_best_effort: bool,
    /// Where the policy came from (`process.landlock` or `annotations."run.oci.landlock"`), so
    /// errors found later, when paths are opened, can name the field.
    pub origin: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathBeneathRule {
    pub allowed: BTreeSet<FsRight>,
    /// Absolute paths inside the container.
    pub paths: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetPortRule {
    pub allowed: BTreeSet<NetRight>,
    pub ports: Vec<u16>,
}

impl LandlockPolicy {
    /// The lowest ABI that knows every right this policy names.
    pub fn required_abi(&self) -> i32 {
        let fs = self.handled_fs.iter().map(|r| r.min_abi());
        let net = self.handled_net.iter().map(|r| r.min_abi());
        let scope = self.scoped.iter().map(|r| r.min_abi());
        fs.chain(net).chain(scope).max().unwrap_or(1)
    }
}

/// Where `process.landlock` lives when it comes from config.json.
pub const PROCESS_FIELD: &str = "process.landlock";

/// Field name used for a policy that came from the annotation.
pub fn annotation_field() -> String {
    format!("annotations.\"{ANNOTATION}\"")
}

/// Parse a policy found at `process.landlock` (errors name that field).
pub fn parse(v: &Value) -> Result<LandlockPolicy> {
    parse_at(v, PROCESS_FIELD)
}

/// Parse a policy; `origin` is the JSON path used in error messages.
pub fn parse_at(v: &Value, origin: &str) -> Result<LandlockPolicy> {
    let top = object(v, origin)?;
    known_keys(top, origin, &["ruleset", "rules", "disableBestEffort"])?;
    let mut p = LandlockPolicy {
        origin: origin.to_string(),
        ..Default::default()
    };

    let rs_field = format!("{origin}.ruleset");
    match present(top, "ruleset") {
        None => {
            return Err(TranslateError::new(
                rs_field,
                "is missing: a policy must handle some rights",
            ))
        }
        Some(rs) => {
            let rs = object(rs, &rs_field)?;
            known_keys(
                rs,
                &rs_field,
                &["handledAccessFS", "handledAccessNet", "scoped"],
            )?;
            p.handled_fs = rights_at(
                rs,
                &rs_field,
                "handledAccessFS",
                FsRight::from_name,
                FsRight::ALL,
            )?;
            p.handled_net = rights_at(
                rs,
                &rs_field,
                "handledAccessNet",
                NetRight::from_name,
                NetRight::ALL,
            )?;
            p.scoped = rights_at(
                rs,
                &rs_field,
                "scoped",
                ScopeRight::from_name,
                ScopeRight::ALL,
            )?;
        }
    }
    if p.handled_fs.is_empty() && p.handled_net.is_empty() && p.scoped.is_empty() {
        return Err(TranslateError::new(
            rs_field,
            "handles nothing: list rights in handledAccessFS, handledAccessNet or scoped",
        ));
    }

    if let Some(rules) = present(top, "rules") {
        let rules_field = format!("{origin}.rules");
        let rules = object(rules, &rules_field)?;
        known_keys(rules, &rules_field, &["pathBeneath", "netPort"])?;
        if let Some(list) = present(rules, "pathBeneath") {
            let f = format!("{rules_field}.pathBeneath");
            for (i, r) in array(list, &f)?.iter().enumerate() {
                p.path_beneath
                    .push(path_beneath_rule(r, &format!("{f}[{i}]"), &p.handled_fs)?);
            }
        }
        if let Some(list) = present(rules, "netPort") {
            let f = format!("{rules_field}.netPort");
            for (i, r) in array(list, &f)?.iter().enumerate() {
                p.net_port
                    .push(net_port_rule(r, &format!("{f}[{i}]"), &p.handled_net)?);
            }
        }
    }

    if let Some(b) = present(top, "disableBestEffort") {
        p.disable_best_effort = b.as_bool().ok_or_else(|| {
            TranslateError::new(
                format!("{origin}.disableBestEffort"),
                "must be true or false",
            )
        })?;
    }
    Ok(p)
}

/// Pick the raw policy from a config.json: `process.landlock`, else the `run.oci.landlock`
/// annotation (a string holding JSON). The process field wins when both are present.
pub fn from_config(raw_config: &Value) -> Result<Option<Value>> {
    Ok(locate(raw_config)?.map(|(v, _)| v))
}

/// `from_config` and `parse_at` in one step, with errors naming the field the policy came from.
pub fn parse_config(raw_config: &Value) -> Result<Option<LandlockPolicy>> {
    match locate(raw_config)? {
        None => Ok(None),
        Some((v, origin)) => parse_at(&v, &origin).map(Some),
    }
}

/// The policies an `exec`'d process gets, in the order to apply them: the container's own
/// (`container`, from its config.json) and then, stacked on top, `landlock` of the exec
/// `--process` file when it has one. Landlock domains only ever add restrictions, so the
/// process file can tighten the container's policy but never loosen it.
pub fn for_exec(
    raw_process: &Value,
    container: Option<&LandlockPolicy>,
) -> Result<Vec<LandlockPolicy>> {
    let mut out: Vec<LandlockPolicy> = container.into_iter().cloned().collect();
    if let Some(v) = raw_process.get("landlock").filter(|v| !v.is_null()) {
        out.push(parse_at(v, "process.landlock (exec --process)")?);
    }
    Ok(out)
}

/// The raw policy and the JSON path it came from.
fn locate(raw_config: &Value) -> Result<Option<(Value, String)>> {
    if let Some(v) = raw_config
        .get("process")
        .and_then(|p| p.get("landlock"))
        .filter(|v| !v.is_null())
    {
        return Ok(Some((v.clone(), PROCESS_FIELD.to_string())));
    }
    let field = annotation_field();
    match raw_config
        .get("annotations")
        .and_then(|a| a.get(ANNOTATION))
    {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let v: Value = serde_json::from_str(s).map_err(|e| {
                TranslateError::new(field.as_str(), format!("is not valid JSON: {e}"))
            })?;
            Ok(Some((v, field)))
        }
        Some(_) => Err(TranslateError::new(
            field,
            "must be a string holding the policy as JSON",
        )),
    }
}

fn path_beneath_rule(
    v: &Value,
    field: &str,
    handled: &BTreeSet<FsRight>,
) -> Result<PathBeneathRule> {
    let o = object(v, field)?;
    known_keys(o, field, &["allowedAccess", "paths"])?;
    let allowed = required_rights(
        o,
        field,
        FsRight::from_name,
        FsRight::ALL,
        handled,
        "handledAccessFS",
    )?;
    let list = present(o, "paths")
        .ok_or_else(|| TranslateError::new(format!("{field}.paths"), "is missing"))?;
    let pf = format!("{field}.paths");
    let items = array(list, &pf)?;
    if items.is_empty() {
        return Err(TranslateError::new(
            pf,
            "is empty: a rule needs at least one path",
        ));
    }
    let mut paths = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let f = format!("{pf}[{i}]");
        let s = item
            .as_str()
            .ok_or_else(|| TranslateError::new(f.as_str(), "must be a string"))?;
        if s.is_empty() {
            return Err(TranslateError::new(f, "is empty"));
        }
        if !s.starts_with('/') {
            return Err(TranslateError::new(
                f,
                format!(
                    "\"{s}\" is not an absolute path (paths are resolved inside the container)"
                ),
            ));
        }
        if s.contains('\0') {
            return Err(TranslateError::new(f, "contains a NUL byte"));
        }
        paths.push(s.to_string());
    }
    Ok(PathBeneathRule { allowed, paths })
}

fn net_port_rule(v: &Value, field: &str, handled: &BTreeSet<NetRight>) -> Result<NetPortRule> {
    let o = object(v, field)?;
    known_keys(o, field, &["allowedAccess", "ports"])?;
    let allowed = required_rights(
        o,
        field,
        NetRight::from_name,
        NetRight::ALL,
        handled,
        "handledAccessNet",
    )?;
    let list = present(o, "ports")
        .ok_or_else(|| TranslateError::new(format!("{field}.ports"), "is missing"))?;
    let pf = format!("{field}.ports");
    let items = array(list, &pf)?;
    if items.is_empty() {
        return Err(TranslateError::new(
            pf,
            "is empty: a rule needs at least one port",
        ));
    }
    let mut ports = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let port = item
            .as_u64()
            .and_then(|n| u16::try_from(n).ok())
            .ok_or_else(|| {
                TranslateError::new(
                    format!("{pf}[{i}]"),
                    format!("{item} is not a port number (0 to 65535)"),
                )
            })?;
        ports.push(port);
    }
    Ok(NetPortRule { allowed, ports })
}

/// `allowedAccess` of a rule: present, non-empty, and within what the ruleset handles (the
/// kernel refuses a rule that allows an unhandled right).
fn required_rights<R: Copy + Ord + RightName>(
    o: &Map<String, Value>,
    field: &str,
    from_name: fn(&str) -> Option<R>,
    all: &[R],
    handled: &BTreeSet<R>,
    handled_key: &str,
) -> Result<BTreeSet<R>> {
    let af = format!("{field}.allowedAccess");
    if present(o, "allowedAccess").is_none() {
        return Err(TranslateError::new(af, "is missing"));
    }
    let allowed = rights_at(o, field, "allowedAccess", from_name, all)?;
    if allowed.is_empty() {
        return Err(TranslateError::new(
            af,
            "is empty: a rule must allow at least one right",
        ));
    }
    let unhandled: Vec<&str> = allowed
        .iter()
        .filter(|r| !handled.contains(r))
        .map(|r| r.right_name())
        .collect();
    if !unhandled.is_empty() {
        return Err(TranslateError::new(
            af,
            format!(
                "allows {} which ruleset.{handled_key} does not handle",
                unhandled.join(", ")
            ),
        ));
    }
    Ok(allowed)
}

/// Lets the generic helpers print a right of any family.
trait RightName {
    fn right_name(&self) -> &'static str;
}
impl RightName for FsRight {
    fn right_name(&self) -> &'static str {
        self.name()
    }
}
impl RightName for NetRight {
    fn right_name(&self) -> &'static str {
        self.name()
    }
}
impl RightName for ScopeRight {
    fn right_name(&self) -> &'static str {
        self.name()
    }
}

/// An optional array of right names at `o[key]`; absent or null gives an empty set.
fn rights_at<R: Copy + Ord + RightName>(
    o: &Map<String, Value>,
    field: &str,
    key: &str,
    from_name: fn(&str) -> Option<R>,
    all: &[R],
) -> Result<BTreeSet<R>> {
    let mut set = BTreeSet::new();
    let Some(v) = present(o, key) else {
        return Ok(set);
    };
    let kf = format!("{field}.{key}");
    for (i, item) in array(v, &kf)?.iter().enumerate() {
        let f = format!("{kf}[{i}]");
        let s = item
            .as_str()
            .ok_or_else(|| TranslateError::new(f.as_str(), "must be a string"))?;
        let r = from_name(s).ok_or_else(|| {
            let known: Vec<&str> = all.iter().map(|r| r.right_name()).collect();
            TranslateError::new(
                f.as_str(),
                format!("unknown right \"{s}\" (known: {})", known.join(", ")),
            )
        })?;
        set.insert(r);
    }
    Ok(set)
}

/// `o[key]`, treating JSON null as absent (Go clients write null for empty slices).
fn present<'a>(o: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    o.get(key).filter(|v| !v.is_null())
}

fn object<'a>(v: &'a Value, field: &str) -> Result<&'a Map<String, Value>> {
    v.as_object().ok_or_else(|| {
        TranslateError::new(field, format!("must be a JSON object, not {}", kind(v)))
    })
}

fn array<'a>(v: &'a Value, field: &str) -> Result<&'a Vec<Value>> {
    v.as_array()
        .ok_or_else(|| TranslateError::new(field, format!("must be an array, not {}", kind(v))))
}

fn known_keys(o: &Map<String, Value>, field: &str, known: &[&str]) -> Result<()> {
    match o.keys().find(|k| !known.contains(&k.as_str())) {
        None => Ok(()),
        Some(k) => Err(TranslateError::new(
            format!("{field}.{k}"),
            format!("unknown key (known: {})", known.join(", ")),
        )),
    }
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn err(v: Value) -> String {
        parse(&v).unwrap_err().to_string()
    }

    #[test]
    fn parses_the_runtime_spec_example() {
        let v = json!({"ruleset":{"handledAccessFS":["execute","write_file","read_file","read_dir","remove_dir","remove_file","make_char","make_dir","make_reg","make_sock","make_fifo","make_block","make_sym"]},"rules":{"pathBeneath":[{"allowedAccess":["execute","read_file","read_dir"],"paths":["/bin"]}]},"disableBestEffort":true});
        let p = parse(&v).unwrap();
        assert_eq!(p.handled_fs.len(), 13);
        assert!(p.disable_best_effort);
        assert_eq!(p.path_beneath.len(), 1);
        assert_eq!(p.path_beneath[0].paths, vec!["/bin".to_string()]);
        assert_eq!(
            p.path_beneath[0].allowed,
            [FsRight::Execute, FsRight::ReadFile, FsRight::ReadDir]
                .into_iter()
                .collect()
        );
        assert_eq!(p.required_abi(), 1);
        assert_eq!(p.origin, "process.landlock");
    }

    #[test]
    fn parses_the_extensions() {
        let v = json!({
            "ruleset": {
                "handledAccessFS": ["refer", "truncate", "ioctl_dev", "read_file"],
                "handledAccessNet": ["bind_tcp", "connect_tcp"],
                "scoped": ["abstract_unix_socket", "signal"]
            },
            "rules": {
                "pathBeneath": [{"allowedAccess": ["truncate"], "paths": ["/tmp", "/var/tmp"]}],
                "netPort": [{"allowedAccess": ["bind_tcp"], "ports": [8080, 0, 65535]}]
            }
        });
        let p = parse(&v).unwrap();
        assert!(!p.disable_best_effort);
        assert_eq!(p.handled_net.len(), 2);
        assert_eq!(
            p.scoped,
            [ScopeRight::AbstractUnixSocket, ScopeRight::Signal]
                .into_iter()
                .collect()
        );
        assert_eq!(p.net_port[0].ports, vec![8080, 0, 65535]);
        assert_eq!(p.required_abi(), 6);
    }

    #[test]
    fn null_means_absent() {
        let v = json!({"ruleset":{"handledAccessFS":["read_file"],"handledAccessNet":null},"rules":null,"disableBestEffort":null});
        let p = parse(&v).unwrap();
        assert!(p.handled_net.is_empty() && p.path_beneath.is_empty() && !p.disable_best_effort);
    }

    #[test]
    fn every_right_round_trips_and_has_an_abi() {
        for r in FsRight::ALL {
            assert_eq!(FsRight::from_name(r.name()), Some(*r));
            assert!(r.min_abi() >= 1);
        }
        for r in NetRight::ALL {
            assert_eq!(NetRight::from_name(r.name()), Some(*r));
            assert!(r.min_abi() >= 4);
        }
        for r in ScopeRight::ALL {
            assert_eq!(ScopeRight::from_name(r.name()), Some(*r));
            assert_eq!(r.min_abi(), 6);
        }
    }

    #[test]
    fn unknown_right_is_named() {
        let e = err(json!({"ruleset":{"handledAccessFS":["read_file","fly"]}}));
        assert!(
            e.contains("process.landlock.ruleset.handledAccessFS[1]"),
            "{e}"
        );
        assert!(e.contains("unknown right \"fly\""), "{e}");
        let e = err(json!({"ruleset":{"handledAccessNet":["bind_udp","bind_sctp"]}}));
        assert!(
            e.contains("handledAccessNet[1]") && e.contains("bind_sctp"),
            "{e}"
        );
        let e = err(json!({"ruleset":{"scoped":["ptrace"]}}));
        assert!(
            e.contains("ruleset.scoped[0]") && e.contains("ptrace"),
            "{e}"
        );
        // Names are the lower-case spellings only.
        let e = err(json!({"ruleset":{"handledAccessFS":["READ_FILE"]}}));
        assert!(e.contains("unknown right"), "{e}");
    }

    #[test]
    fn unknown_keys_are_named() {
        let e = err(json!({"ruleset":{"handledAccessFS":["read_file"]},"disableBestEfort":true}));
        assert!(
            e.contains("process.landlock.disableBestEfort: unknown key"),
            "{e}"
        );
        let e = err(json!({"ruleset":{"handledAccessFs":["read_file"]}}));
        assert!(
            e.contains("process.landlock.ruleset.handledAccessFs: unknown key"),
            "{e}"
        );
        let e = err(
            json!({"ruleset":{"handledAccessFS":["read_file"]},"rules":{"pathBeneath":[{"allowedAccess":["read_file"],"paths":["/"],"path":"/x"}]}}),
        );
        assert!(e.contains("rules.pathBeneath[0].path: unknown key"), "{e}");
        let e = err(json!({"ruleset":{"handledAccessFS":["read_file"]},"rules":{"netPorts":[]}}));
        assert!(e.contains("rules.netPorts: unknown key"), "{e}");
    }

    #[test]
    fn paths_are_checked() {
        let base = |paths: Value| json!({"ruleset":{"handledAccessFS":["read_file"]},"rules":{"pathBeneath":[{"allowedAccess":["read_file"],"paths":paths}]}});
        let e = err(base(json!(["/bin", "usr/lib"])));
        assert!(
            e.contains("rules.pathBeneath[0].paths[1]") && e.contains("not an absolute path"),
            "{e}"
        );
        let e = err(base(json!([])));
        assert!(e.contains("rules.pathBeneath[0].paths: is empty"), "{e}");
        let e = err(base(json!([""])));
        assert!(e.contains("paths[0]: is empty"), "{e}");
        let e = err(base(json!("/bin")));
        assert!(e.contains("paths: must be an array"), "{e}");
        let e = err(base(json!([7])));
        assert!(e.contains("paths[0]: must be a string"), "{e}");
        let e = err(
            json!({"ruleset":{"handledAccessFS":["read_file"]},"rules":{"pathBeneath":[{"allowedAccess":["read_file"]}]}}),
        );
        assert!(e.contains("pathBeneath[0].paths: is missing"), "{e}");
    }

    #[test]
    fn ports_are_checked() {
        let base = |ports: Value| json!({"ruleset":{"handledAccessNet":["bind_tcp"]},"rules":{"netPort":[{"allowedAccess":["bind_tcp"],"ports":ports}]}});
        for bad in [json!([65536]), json!([-1]), json!([80.5]), json!(["80"])] {
            let e = err(base(bad.clone()));
            assert!(
                e.contains("rules.netPort[0].ports[0]") && e.contains("not a port number"),
                "{bad}: {e}"
            );
        }
        let e = err(base(json!([])));
        assert!(e.contains("netPort[0].ports: is empty"), "{e}");
    }

    #[test]
    fn rules_must_stay_within_the_ruleset() {
        let e = err(
            json!({"ruleset":{"handledAccessFS":["read_file"]},"rules":{"pathBeneath":[{"allowedAccess":["read_file","execute"],"paths":["/bin"]}]}}),
        );
        assert!(
            e.contains("pathBeneath[0].allowedAccess")
                && e.contains("execute which ruleset.handledAccessFS does not handle"),
            "{e}"
        );
        let e = err(
            json!({"ruleset":{"handledAccessFS":["read_file"]},"rules":{"netPort":[{"allowedAccess":["bind_tcp"],"ports":[1]}]}}),
        );
        assert!(
            e.contains("netPort[0].allowedAccess") && e.contains("handledAccessNet"),
            "{e}"
        );
        let e = err(
            json!({"ruleset":{"handledAccessFS":["read_file"]},"rules":{"pathBeneath":[{"allowedAccess":[],"paths":["/bin"]}]}}),
        );
        assert!(e.contains("allowedAccess: is empty"), "{e}");
        let e = err(
            json!({"ruleset":{"handledAccessFS":["read_file"]},"rules":{"pathBeneath":[{"paths":["/bin"]}]}}),
        );
        assert!(e.contains("allowedAccess: is missing"), "{e}");
    }

    #[test]
    fn malformed_shapes_are_refused() {
        assert!(err(json!("x")).contains("process.landlock: must be a JSON object, not a string"));
        assert!(err(json!({})).contains("process.landlock.ruleset: is missing"));
        assert!(err(json!({"ruleset":{}})).contains("handles nothing"));
        assert!(err(json!({"ruleset":{"handledAccessFS":[]}})).contains("handles nothing"));
        assert!(err(json!({"ruleset":[]})).contains("ruleset: must be a JSON object"));
        assert!(err(json!({"ruleset":{"handledAccessFS":"read_file"}}))
            .contains("handledAccessFS: must be an array"));
        assert!(err(
            json!({"ruleset":{"handledAccessFS":["read_file"]},"disableBestEffort":"yes"})
        )
        .contains("disableBestEffort: must be true or false"));
        assert!(err(
            json!({"ruleset":{"handledAccessFS":["read_file"]},"rules":{"pathBeneath":{}}})
        )
        .contains("rules.pathBeneath: must be an array"));
    }

    #[test]
    fn from_config_prefers_the_process_field() {
        let policy = json!({"ruleset":{"handledAccessFS":["read_file"]}});
        let other = r#"{"ruleset":{"handledAccessFS":["execute"]}}"#;
        let both = json!({"process":{"landlock":policy},"annotations":{"run.oci.landlock":other}});
        assert_eq!(from_config(&both).unwrap(), Some(policy.clone()));
        let p = parse_config(&both).unwrap().unwrap();
        assert_eq!(p.origin, "process.landlock");

        let ann = json!({"process":{"args":["sh"]},"annotations":{"run.oci.landlock":other}});
        assert_eq!(
            from_config(&ann).unwrap(),
            Some(json!({"ruleset":{"handledAccessFS":["execute"]}}))
        );
        let p = parse_config(&ann).unwrap().unwrap();
        assert_eq!(p.origin, "annotations.\"run.oci.landlock\"");
        assert!(p.handled_fs.contains(&FsRight::Execute));

        // A null process field does not hide the annotation.
        let null = json!({"process":{"landlock":null},"annotations":{"run.oci.landlock":other}});
        assert!(from_config(&null).unwrap().is_some());

        assert_eq!(from_config(&json!({"process":{}})).unwrap(), None);
        assert_eq!(parse_config(&json!({})).unwrap(), None);
    }

    #[test]
    fn exec_stacks_its_own_policy_on_the_containers() {
        let container = parse(&json!({"ruleset":{"handledAccessFS":["read_file"]}})).unwrap();
        let none = for_exec(&json!({"args":["sh"]}), Some(&container)).unwrap();
        assert_eq!(none, vec![container.clone()]);
        let own = json!({"args":["sh"],"landlock":{"ruleset":{"scoped":["signal"]}}});
        let both = for_exec(&own, Some(&container)).unwrap();
        assert_eq!(both.len(), 2);
        assert_eq!(both[0], container);
        assert_eq!(both[1].scoped, [ScopeRight::Signal].into_iter().collect());
        assert_eq!(for_exec(&own, None).unwrap().len(), 1);
        assert!(for_exec(&json!({"landlock":null}), None)
            .unwrap()
            .is_empty());
        let e = for_exec(&json!({"landlock":{"ruleset":{"scoped":["x"]}}}), None)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("process.landlock (exec --process).ruleset.scoped[0]: unknown right"),
            "{e}"
        );
    }

    #[test]
    fn annotation_errors_name_the_annotation() {
        let bad = json!({"annotations":{"run.oci.landlock":"{\"ruleset\":"}});
        let e = from_config(&bad).unwrap_err().to_string();
        assert!(
            e.contains("annotations.\"run.oci.landlock\": is not valid JSON"),
            "{e}"
        );
        let e = parse_config(&json!({"annotations":{"run.oci.landlock":"{\"ruleset\":{\"handledAccessFS\":[\"x\"]}}"}}))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(
                "annotations.\"run.oci.landlock\".ruleset.handledAccessFS[0]: unknown right"
            ),
            "{e}"
        );
        let e = from_config(&json!({"annotations":{"run.oci.landlock":{"ruleset":{}}}}))
            .unwrap_err()
            .to_string();
        assert!(e.contains("must be a string"), "{e}");
    }
}
