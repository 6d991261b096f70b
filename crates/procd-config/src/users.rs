//! User and group lookups in the system databases (`getpwnam`/`getpwuid`/`getgrnam`/
//! `getgrgid` through `nix`), with supervisord's wording (`name_to_uid`,
//! `colon_separated_user_group`).

use nix::unistd::{Gid, Group, Uid, User};

use crate::model::UserSpec;
use crate::values::py_int;

/// A user name or numeric uid that exists in passwd.
pub fn name_to_uid(name: &str) -> Result<u32, String> {
    match py_int(name) {
        Some(n) => {
            let uid = u32::try_from(n).map_err(|_| format!("Invalid user id {name}"))?;
            match User::from_uid(Uid::from_raw(uid)) {
                Ok(Some(_)) => Ok(uid),
                _ => Err(format!("Invalid user id {name}")),
            }
        }
        None => match User::from_name(name) {
            Ok(Some(u)) => Ok(u.uid.as_raw()),
            _ => Err(format!("Invalid user name {name}")),
        },
    }
}

/// A group name or numeric gid that exists in the group database.
pub fn name_to_gid(name: &str) -> Result<u32, String> {
    match py_int(name) {
        Some(n) => {
            let gid = u32::try_from(n).map_err(|_| format!("Invalid group id {name}"))?;
            match Group::from_gid(Gid::from_raw(gid)) {
                Ok(Some(_)) => Ok(gid),
                _ => Err(format!("Invalid group id {name}")),
            }
        }
        None => match Group::from_name(name) {
            Ok(Some(g)) => Ok(g.gid.as_raw()),
            _ => Err(format!("Invalid group name {name}")),
        },
    }
}

/// The passwd entry of a user given by name or uid.
pub fn user_spec(name: &str) -> Result<UserSpec, String> {
    let uid = name_to_uid(name)?;
    match User::from_uid(Uid::from_raw(uid)) {
        Ok(Some(u)) => Ok(UserSpec {
            name: u.name,
            uid,
            gid: u.gid.as_raw(),
        }),
        _ => Err(format!("Invalid user id {name}")),
    }
}

/// Primary gid of a uid.
pub fn gid_for_uid(uid: u32) -> Option<u32> {
    User::from_uid(Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.gid.as_raw())
}

/// `user` or `user:group` → (uid, gid if given).
pub fn user_group(v: &str) -> Result<(u32, Option<u32>), String> {
    let bad = || format!("Invalid user:group definition {v}");
    match v.split_once(':') {
        None => Ok((name_to_uid(v).map_err(|_| bad())?, None)),
        Some((u, g)) => Ok((
            name_to_uid(u).map_err(|_| bad())?,
            Some(name_to_gid(g).map_err(|_| bad())?),
        )),
    }
}

/// The uid supervisord runs as.
pub fn current_uid() -> u32 {
    Uid::current().as_raw()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_root() {
        assert_eq!(name_to_uid("root"), Ok(0));
        assert_eq!(name_to_uid("0"), Ok(0));
        assert_eq!(name_to_gid("0"), Ok(0));
        assert_eq!(
            user_spec("root").map(|u| (u.name, u.uid, u.gid)),
            Ok(("root".to_string(), 0, 0))
        );
        assert_eq!(user_group("root:0"), Ok((0, Some(0))));
        assert_eq!(user_group("root"), Ok((0, None)));
    }

    #[test]
    fn rejects_unknown() {
        assert_eq!(
            name_to_uid("no-such-user-xyz").unwrap_err(),
            "Invalid user name no-such-user-xyz"
        );
        assert_eq!(
            name_to_uid("4000000000").unwrap_err(),
            "Invalid user id 4000000000"
        );
        assert_eq!(
            user_group("root:no-such-group-xyz").unwrap_err(),
            "Invalid user:group definition root:no-such-group-xyz"
        );
    }
}
