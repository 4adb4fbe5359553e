//! Protocol identifiers as newtypes: Call-ID, Via branch, From/To tag.
//!
//! They are generated from an injected RNG (see `clock::rng`), so tests can
//! seed them and get byte-identical requests.

use std::fmt;

use rand::Rng;
use rand::distributions::Alphanumeric;

/// The RFC 3261 §8.1.1.7 magic cookie every branch we create starts with.
pub const BRANCH_COOKIE: &str = "z9hG4bK";

fn token(rng: &mut impl Rng, len: usize) -> String {
    rng.sample_iter(&Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

macro_rules! string_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash)]
        pub struct $name(String);

        impl $name {
            /// The identifier as it goes on the wire.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

string_id!(
    /// A Call-ID: globally unique, `<random>@<host>`.
    CallId
);
string_id!(
    /// A Via branch: `z9hG4bK` followed by a random token, unique per transaction.
    Branch
);
string_id!(
    /// A From/To tag.
    Tag
);

impl CallId {
    /// A new random Call-ID scoped to `host`.
    pub fn generate(rng: &mut impl Rng, host: &str) -> Self {
        Self(format!("{}@{}", token(rng, 24), host))
    }
}

impl Branch {
    /// A new random branch carrying the RFC 3261 magic cookie.
    pub fn generate(rng: &mut impl Rng) -> Self {
        Self(format!("{BRANCH_COOKIE}{}", token(rng, 16)))
    }
}

impl Tag {
    /// A new random tag.
    pub fn generate(rng: &mut impl Rng) -> Self {
        Self(format!("rw{}", token(rng, 10)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand::rngs::StdRng;

    #[test]
    fn branch_has_magic_cookie_and_is_unique() {
        let mut rng = StdRng::seed_from_u64(7);
        let a = Branch::generate(&mut rng);
        let b = Branch::generate(&mut rng);
        assert!(a.as_str().starts_with("z9hG4bK"));
        assert_eq!(a.as_str().len(), 7 + 16);
        assert_ne!(a, b);
    }

    #[test]
    fn seeded_ids_are_deterministic() {
        let one = CallId::generate(&mut StdRng::seed_from_u64(1), "probe.example");
        let two = CallId::generate(&mut StdRng::seed_from_u64(1), "probe.example");
        assert_eq!(one, two);
        assert!(one.as_str().ends_with("@probe.example"));
    }
}
