//! User and group lookups, done in the parent before forking (never in a forked child).

use std::ffi::CString;

use nix::unistd::{Gid, Uid, User, getgrouplist};

use super::spawn::SpawnUser;

/// A passwd entry plus its full group list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    /// `setgroups` list: primary gid first, then every other group that lists the user.
    pub groups: Vec<u32>,
}

impl UserInfo {
    /// The credentials a child of this user is spawned with.
    pub fn spawn_user(&self) -> SpawnUser {
        SpawnUser {
            uid: self.uid,
            gid: self.gid,
            groups: self.groups.clone(),
        }
    }
}

/// Looks a user up by uid; `None` when the uid has no passwd entry.
pub fn lookup_uid(uid: u32) -> Option<UserInfo> {
    let user = User::from_uid(Uid::from_raw(uid)).ok().flatten()?;
    Some(info(&user))
}

/// Looks a user up by name; `None` when unknown.
pub fn lookup_name(name: &str) -> Option<UserInfo> {
    let user = User::from_name(name).ok().flatten()?;
    Some(info(&user))
}

/// Resolves `user=` like supervisord's `name_to_uid`: a number must be a known uid, else a known name.
/// Errors are supervisord's texts (`Invalid user name x`, `Invalid user id 123`).
pub fn resolve_user(text: &str) -> Result<UserInfo, String> {
    match text.parse::<u32>() {
        Ok(uid) => lookup_uid(uid).ok_or_else(|| format!("Invalid user id {text}")),
        Err(_) => lookup_name(text).ok_or_else(|| format!("Invalid user name {text}")),
    }
}

/// `[gid] + every group whose member list names the user`, without duplicates.
pub fn supplementary_groups(name: &str, gid: u32) -> Vec<u32> {
    let mut groups = vec![gid];
    let listed = CString::new(name)
        .ok()
        .and_then(|cname| getgrouplist(&cname, Gid::from_raw(gid)).ok())
        .unwrap_or_default();
    for g in listed.into_iter().map(Gid::as_raw) {
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    groups
}

fn info(user: &User) -> UserInfo {
    UserInfo {
        name: user.name.clone(),
        uid: user.uid.as_raw(),
        gid: user.gid.as_raw(),
        groups: supplementary_groups(&user.name, user.gid.as_raw()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn root_resolves_by_name_and_number() {
        let by_name = resolve_user("root").expect("root exists");
        let by_uid = resolve_user("0").expect("uid 0 exists");
        assert_eq!(by_name, by_uid);
        assert_eq!(by_name.uid, 0);
        assert_eq!(by_name.groups.first(), Some(&by_name.gid));
    }

    #[test]
    fn unknown_users_use_supervisord_texts() {
        assert_eq!(
            resolve_user("no-such-user-xyz"),
            Err("Invalid user name no-such-user-xyz".into())
        );
        assert_eq!(
            resolve_user("3999999"),
            Err("Invalid user id 3999999".into())
        );
    }
}
