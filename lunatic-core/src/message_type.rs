//! The type of a message: its name and fingerprint, which every message carries, so that a
//! message read as another type is an error naming both, never a value made of garbage.
//!
//! A type's name is [`std::any::type_name`]: the crate, module path and generic arguments,
//! the same in every build of the same source with the same compiler, so processes of
//! different modules (and, later, nodes) agree on it. Its fingerprint is the 64-bit FNV-1a
//! hash of the name: stable, and cheap to compare on every receive.
//!
//! **Versions.** When a type's serde name differs from its Rust name, the serde name is
//! part of the type's name: `shop::Order as Order/2`. So a type is versioned by giving it
//! a serde name, `#[serde(rename = "Order/2")]`, and changing it with the layout: bincode
//! ignores serde names, so nothing else changes. The serde name counted is the message
//! type's own (for a wrapper that reads as what it wraps, such as `Box<T>`, the wrapped
//! type's), not those of the types inside it.

use std::any::TypeId;
use std::borrow::Cow;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicPtr, Ordering};
use std::sync::{Mutex, OnceLock};

use serde::de::{self, DeserializeOwned, Visitor};
use serde::{Deserialize, Serialize};

/// The type of a message, as it travels: its name and the name's fingerprint. Two are
/// equal when their fingerprints are (a name read from a message may be cut).
#[derive(Clone)]
pub struct MessageType {
    fingerprint: u64,
    /// The name; for a type known only by its fingerprint (what a received message was sent
    /// as), asked of the VM's table when first wanted: a receiver that only compares (an
    /// actor told to stop, say) makes no host call and no copy of the name.
    name: OnceLock<Cow<'static, str>>,
}

impl MessageType {
    /// The type of messages of type `T`. Its name is recorded in the VM's table, as for
    /// every type handed to another process or to the VM.
    #[must_use]
    #[inline]
    pub fn of<T: DeserializeOwned + 'static>() -> Self {
        Self::known(named_type_info::<T>())
    }

    /// The type of this process's messages of type `T`, not recorded (for a comparison, or
    /// to name the type this process expected).
    pub(crate) fn local<T: DeserializeOwned + 'static>() -> Self {
        Self::known(type_info::<T>())
    }

    fn known(info: &'static TypeInfo) -> Self {
        Self {
            fingerprint: info.fingerprint,
            name: OnceLock::from(Cow::Borrowed(info.name())),
        }
    }

    /// The type of fingerprint `fingerprint`, named as the VM's table names it.
    pub(crate) fn of_fingerprint(fingerprint: u64) -> Self {
        Self {
            fingerprint,
            name: OnceLock::new(),
        }
    }

    /// The fingerprint: the FNV-1a hash of the name.
    #[must_use]
    pub fn fingerprint(&self) -> u64 {
        self.fingerprint
    }

    /// The name (one another process named is cut to [`MAX_WIRE_NAME`] bytes).
    #[must_use]
    pub fn name(&self) -> &str {
        self.name.get_or_init(|| {
            // Outside wasm (this crate's own tests) there is no VM to ask.
            let recorded = if cfg!(target_arch = "wasm32") {
                crate::host::type_name(self.fingerprint)
            } else {
                None
            };
            Cow::Owned(recorded.unwrap_or_else(|| {
                format!(
                    "of fingerprint {:#018x}, not named to this VM",
                    self.fingerprint
                )
            }))
        })
    }

    /// Whether this is the type of `T`'s messages.
    #[must_use]
    pub fn is<T: DeserializeOwned + 'static>(&self) -> bool {
        self.fingerprint == type_info::<T>().fingerprint
    }
}

impl fmt::Debug for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MessageType")
            .field("fingerprint", &self.fingerprint)
            .field("name", &self.name())
            .finish()
    }
}

/// A [`MessageType`] as it travels: its fingerprint, then its name (looked up first, if
/// it was not yet).
#[derive(Serialize)]
struct WireType<'a> {
    fingerprint: u64,
    name: &'a str,
}

/// A [`MessageType`] as it is read.
#[derive(Deserialize)]
struct ReadType {
    fingerprint: u64,
    name: String,
}

impl Serialize for MessageType {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        WireType {
            fingerprint: self.fingerprint,
            name: self.name(),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for MessageType {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let ReadType { fingerprint, name } = ReadType::deserialize(deserializer)?;
        Ok(Self {
            fingerprint,
            name: OnceLock::from(Cow::Owned(name)),
        })
    }
}

impl PartialEq for MessageType {
    fn eq(&self, other: &Self) -> bool {
        self.fingerprint == other.fingerprint
    }
}

impl Eq for MessageType {}

impl fmt::Display for MessageType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A message of one type was read as another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("expected a message of type `{expected}`, got one of type `{found}`")]
pub struct WrongType {
    expected: MessageType,
    found: MessageType,
}

impl WrongType {
    pub(crate) fn new(expected: MessageType, found: MessageType) -> Self {
        Self { expected, found }
    }

    /// The type the reader takes.
    #[must_use]
    pub fn expected(&self) -> &MessageType {
        &self.expected
    }

    /// The type the message was sent as.
    #[must_use]
    pub fn found(&self) -> &MessageType {
        &self.found
    }
}

/// The longest name the VM keeps for a type another process sent, in bytes; a longer one
/// is cut (the fingerprint covers all of it).
pub const MAX_WIRE_NAME: usize = lunatic_abi::MAX_TYPE_NAME;

/// What a process knows of one message type, worked out at its first use and kept for
/// the process's life (a program has few message types).
pub(crate) struct TypeInfo {
    /// The type's Rust name.
    rust: &'static str,
    /// Its serde name, when that differs from the Rust name's last segment: then the type's
    /// name is `{rust} as {serde}` ([`MessageType::name`]).
    serde: Option<&'static str>,
    /// That name, joined when first wanted: a process that only sends and receives the type
    /// hashes the two parts and writes no heap page for it.
    joined: OnceLock<String>,
    pub(crate) fingerprint: u64,
    /// Whether the name is recorded in the VM's table, where a receiver of one of the
    /// type's messages that takes another type looks it up. Recorded when the type is
    /// first handed out ([`named_type_info`]: a message sent, a `MessageType` made), not
    /// when it is only compared: most of a process's types are only received.
    named: AtomicBool,
}

/// Bytes of a joined name recorded from the stack; a longer one is joined on the heap.
const JOIN_ON_STACK: usize = 512;

impl TypeInfo {
    /// Works `T` out.
    #[cold]
    fn work_out<T: DeserializeOwned>() -> Self {
        let rust = std::any::type_name::<T>();
        let serde = serde_name::<T>().filter(|serde| !is_own_name(rust, serde));
        let mut fingerprint = lunatic_abi::fingerprint(rust.as_bytes());
        if let Some(serde) = serde {
            fingerprint = lunatic_abi::fingerprint_on(fingerprint, AS.as_bytes());
            fingerprint = lunatic_abi::fingerprint_on(fingerprint, serde.as_bytes());
        }
        Self {
            rust,
            serde,
            joined: OnceLock::new(),
            fingerprint,
            named: AtomicBool::new(false),
        }
    }

    /// The type's name ([`MessageType::name`]).
    pub(crate) fn name(&'static self) -> &'static str {
        match self.serde {
            None => self.rust,
            Some(serde) => self.joined.get_or_init(|| [self.rust, AS, serde].concat()),
        }
    }

    /// Records the name in the VM's table (once a process).
    #[cold]
    #[inline(never)]
    fn record_name(&'static self) {
        // Outside wasm (this crate's own tests) there is no VM to tell.
        if cfg!(target_arch = "wasm32") {
            match self.serde {
                None => crate::host::name_type(self.fingerprint, self.rust.as_bytes()),
                Some(serde) => {
                    // Joined on the stack when it fits: no heap page written for it.
                    let mut buffer = [0; JOIN_ON_STACK];
                    let name = match join_into(&mut buffer, [self.rust, AS, serde]) {
                        Some(joined) => joined,
                        None => self.name().as_bytes(),
                    };
                    crate::host::name_type(self.fingerprint, name);
                }
            }
        }
        self.named.store(true, Ordering::Relaxed);
    }
}

/// `parts` one after another in `buffer`, if they fit.
fn join_into<'a>(buffer: &'a mut [u8], parts: [&str; 3]) -> Option<&'a [u8]> {
    let mut at = 0;
    for part in parts {
        buffer
            .get_mut(at..at + part.len())?
            .copy_from_slice(part.as_bytes());
        at += part.len();
    }
    Some(&buffer[..at])
}

/// What joins a type's Rust name to its serde name.
const AS: &str = " as ";

/// What this process knows of `T`'s messages.
#[inline(always)]
#[allow(unsafe_code)]
pub(crate) fn type_info<T: DeserializeOwned + 'static>() -> &'static TypeInfo {
    let key = type_key::<T>();
    let slot = &CACHE[slot_of(key)];
    let known = slot.load(Ordering::Acquire);
    // SAFETY: a slot holds null or a pointer to an entry `known_type` made: a static one
    // or one from `Box::leak`, never freed, and never written again but for its atomic
    // `named` flag.
    if let Some(entry) = unsafe { known.as_ref() } {
        if entry.key == key {
            return &entry.info;
        }
    }
    known_type::<T>(key, slot)
}

/// [`type_info`] for a type handed to another process or to the VM (its fingerprint in a
/// message sent, a registry entry, a `MessageType`): its name is recorded first.
#[inline(always)]
pub(crate) fn named_type_info<T: DeserializeOwned + 'static>() -> &'static TypeInfo {
    let info = type_info::<T>();
    if !info.named.load(Ordering::Relaxed) {
        info.record_name();
    }
    info
}

/// Whether `serde` is the last path segment of the Rust name `rust`, without generic
/// arguments: `Order` of `shop::Order<u64>`.
///
/// Checked from the end of the path, with no substring search: every process works its
/// message types out at their first use, so this is part of every process's start.
fn is_own_name(rust: &str, serde: &str) -> bool {
    // A path segment has no `:` (so `a::Order` is no type's own name).
    if find_byte(serde.as_bytes(), b':').is_some() {
        return false;
    }
    let bytes = rust.as_bytes();
    let end = find_byte(bytes, b'<').unwrap_or(bytes.len());
    let Some(start) = end.checked_sub(serde.len()) else {
        return false;
    };
    same_bytes(&bytes[start..end], serde.as_bytes())
        && (start == 0 || bytes[..start].ends_with(b"::"))
}

/// Whether `a` and `b` hold the same bytes, compared eight at a time (a slice's `==` calls
/// `memcmp`, which compares a byte at a time in wasm).
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    let (mut a_words, mut b_words) = (a.chunks_exact(8), b.chunks_exact(8));
    a.len() == b.len()
        && (&mut a_words)
            .zip(&mut b_words)
            .all(|(x, y)| word(x) == word(y))
        && a_words
            .remainder()
            .iter()
            .zip(b_words.remainder())
            .all(|(x, y)| x == y)
}

/// The eight bytes of `bytes` (a chunk of exactly eight) as one little-endian word.
fn word(bytes: &[u8]) -> u64 {
    u64::from_le_bytes(bytes.try_into().unwrap_or_default())
}

/// Where `needle` first is in `haystack`, looked for eight bytes at a time: a loop over
/// bytes, and `core`'s `memchr` (32-bit words on wasm32, with a set-up longer than these
/// names), cost several times as much in cranelift's code (docs/performance.md).
fn find_byte(haystack: &[u8], needle: u8) -> Option<usize> {
    const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);
    let pattern = ONES * u64::from(needle);
    let mut words = haystack.chunks_exact(8);
    for (at, chunk) in (0..).step_by(8).zip(&mut words) {
        let masked = word(chunk) ^ pattern;
        // A byte of `masked` is zero where `needle` is; this sets the high bit of the
        // first such byte (and maybe of later ones, never of earlier ones).
        let zeros = masked.wrapping_sub(ONES) & !masked & HIGHS;
        if zeros != 0 {
            return Some(at + zeros.trailing_zeros() as usize / 8);
        }
    }
    let rest = words.remainder();
    let at = haystack.len() - rest.len();
    rest.iter().position(|&b| b == needle).map(|i| at + i)
}

// ---------------------------------------------------------------------------------------
// The cache: a type is worked out once per process and found again by its `TypeId` (64
// bits of it), a constant of the program: its slot of 256 is known when the program is
// compiled, so a hit is a load, a compare and a load. A slot points to an entry published
// whole with one store. A type whose slot another took finds its entry in the list of
// the entries made, so nothing is worked out twice.

const SLOTS: usize = 256;

/// A type's key: 64 bits of its `TypeId`.
#[inline(always)]
fn type_key<T: 'static>() -> u64 {
    /// Keeps what `TypeId` hashes (its low 64 bits, as one word).
    struct Key(u64);

    impl Hasher for Key {
        fn write(&mut self, bytes: &[u8]) {
            for byte in bytes {
                self.0 = self.0.rotate_left(8) ^ u64::from(*byte);
            }
        }

        fn write_u64(&mut self, word: u64) {
            self.0 ^= word;
        }

        fn finish(&self) -> u64 {
            self.0
        }
    }

    let mut key = Key(0);
    TypeId::of::<T>().hash(&mut key);
    key.0
}

#[inline(always)]
fn slot_of(key: u64) -> usize {
    // `SLOTS` is a power of two: the low bits.
    #[allow(clippy::cast_possible_truncation)]
    let low = key as usize;
    low % SLOTS
}

/// A type's key and what is known of it.
struct Entry {
    key: u64,
    info: TypeInfo,
}

#[allow(clippy::declare_interior_mutable_const)] // a template for the array, not shared
const EMPTY: AtomicPtr<Entry> = AtomicPtr::new(std::ptr::null_mut());

static CACHE: [AtomicPtr<Entry>; SLOTS] = [EMPTY; SLOTS];

/// The first entries made in this process, in the order made: kept in place, so a process
/// that uses few types (most do) runs no allocator for them and writes no heap page, which
/// its slot's reset would rewrite when it ends.
const KEPT: usize = 32;

static KEPT_ENTRIES: [OnceLock<Entry>; KEPT] = [const { OnceLock::new() }; KEPT];

/// Entries made after the first [`KEPT`]. Its lock is taken by every maker, so an entry
/// is made by one at a time.
static MORE: Mutex<Vec<&'static Entry>> = Mutex::new(Vec::new());

/// `T`'s entry (its key is `key`) from those made, or made now; put in `slot`.
#[cold]
#[inline(never)]
fn known_type<T: DeserializeOwned>(key: u64, slot: &'static AtomicPtr<Entry>) -> &'static TypeInfo {
    let mut more = MORE
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let made = KEPT_ENTRIES.iter().map_while(OnceLock::get);
    let entry = match made
        .chain(more.iter().copied())
        .find(|entry| entry.key == key)
    {
        Some(entry) => entry,
        None => {
            let entry = Entry {
                key,
                info: TypeInfo::work_out::<T>(),
            };
            match KEPT_ENTRIES.iter().find(|kept| kept.get().is_none()) {
                // Empty, and only makers (who hold the lock) fill one.
                Some(kept) => kept.get_or_init(|| entry),
                None => {
                    let entry: &'static Entry = Box::leak(Box::new(entry));
                    more.push(entry);
                    entry
                }
            }
        }
    };
    slot.store(std::ptr::from_ref(entry).cast_mut(), Ordering::Release);
    &entry.info
}

// ---------------------------------------------------------------------------------------
// The serde name: `T::deserialize` is handed a deserializer that notes the name of the
// first struct, enum or named tuple asked for and then fails, so no value is read.

/// The name `T` has for serde, if it is a named struct, enum or tuple struct.
fn serde_name<T: DeserializeOwned>() -> Option<&'static str> {
    let mut name = None;
    let _ = T::deserialize(NameProbe(&mut name));
    name
}

struct NameProbe<'a>(&'a mut Option<&'static str>);

/// Every answer of [`NameProbe`]: it never reads a value.
#[derive(Debug)]
struct Probed;

impl fmt::Display for Probed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("probed")
    }
}

impl std::error::Error for Probed {}

impl de::Error for Probed {
    fn custom<M: fmt::Display>(_: M) -> Self {
        Self
    }
}

/// `NameProbe`'s methods for the shapes serde names: each notes the name and fails.
macro_rules! probe_named {
    ($($method:ident($($_arg:tt: $kind:ty)?)),* $(,)?) => {$(
        fn $method<V: Visitor<'de>>(
            self,
            name: &'static str,
            $(_: $kind,)?
            _: V,
        ) -> Result<V::Value, Probed> {
            *self.0 = Some(name);
            Err(Probed)
        }
    )*};
}

impl<'de> de::Deserializer<'de> for NameProbe<'_> {
    type Error = Probed;

    // As bincode: a type that reads differently for people takes bincode's path.
    fn is_human_readable(&self) -> bool {
        false
    }

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Probed> {
        Err(Probed)
    }

    // The named shapes: note the name, read nothing.
    probe_named! {
        deserialize_unit_struct(),
        deserialize_newtype_struct(),
        deserialize_tuple_struct(_: usize),
        deserialize_struct(_: &'static [&'static str]),
        deserialize_enum(_: &'static [&'static str]),
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit seq tuple map identifier ignored_any
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `T`'s name and fingerprint.
    fn identity<T: DeserializeOwned + 'static>() -> (&'static str, u64) {
        let info = type_info::<T>();
        (info.name(), info.fingerprint)
    }

    #[derive(Serialize, Deserialize)]
    struct Order {
        id: u64,
    }

    #[derive(Serialize, Deserialize)]
    #[serde(rename = "Order/2")]
    struct VersionedOrder {
        id: u64,
    }

    #[derive(Serialize, Deserialize)]
    enum Shape {
        Dot,
    }

    #[test]
    fn a_type_is_named_by_its_path_and_its_serde_name_when_that_differs() {
        assert_eq!(MessageType::of::<u64>().name(), "u64");
        assert_eq!(
            MessageType::of::<(u64, String)>().name(),
            "(u64, alloc::string::String)"
        );
        assert_eq!(
            MessageType::of::<Order>().name(),
            "lunatic_core::message_type::tests::Order"
        );
        assert_eq!(
            MessageType::of::<Shape>().name(),
            "lunatic_core::message_type::tests::Shape"
        );
        assert_eq!(
            MessageType::of::<VersionedOrder>().name(),
            "lunatic_core::message_type::tests::VersionedOrder as Order/2"
        );
        assert_eq!(
            MessageType::of::<Option<Vec<Order>>>().name(),
            std::any::type_name::<Option<Vec<Order>>>()
        );
    }

    #[test]
    fn a_serde_name_is_the_own_name_only_as_the_last_path_segment_without_arguments() {
        assert!(is_own_name("shop::Order", "Order"));
        assert!(is_own_name(
            "shop::orders::Order<u64, alloc::string::String>",
            "Order"
        ));
        assert!(is_own_name("Order<shop::Item>", "Order"));
        assert!(is_own_name("u64", "u64"));
        assert!(is_own_name("é::Ordré<ü::X>", "Ordré"));
        assert!(!is_own_name("shop::BigOrder", "Order"));
        assert!(!is_own_name("shop::Order<Item>", "Item"));
        assert!(!is_own_name("shop::Order", "shop"));
        assert!(!is_own_name(
            "lunatic_core::process::Process<u64>",
            "ProcessId"
        ));
        assert!(!is_own_name("", "Order"));
        assert!(!is_own_name("shop::a::Order", "a::Order"));
    }

    #[test]
    fn bytes_are_the_same_only_when_all_are() {
        let text: Vec<u8> = (0..40).map(|i| b'a' + i).collect();
        for len in 0..text.len() {
            assert!(same_bytes(&text[..len], &text[..len]));
            assert!(!same_bytes(&text[..len], &text[..=len]));
            for at in 0..len {
                let mut other = text[..len].to_vec();
                other[at] ^= 0x20;
                assert!(!same_bytes(&text[..len], &other), "{len} {at}");
            }
        }
    }

    #[test]
    fn a_byte_is_found_where_it_first_is() {
        for len in 0..40 {
            for at in 0..len {
                let mut bytes: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
                bytes[at] = b'<';
                // A later one, and bytes next to the needle's value, change nothing.
                if at + 3 < len {
                    bytes[at + 3] = b'<';
                }
                if at > 0 {
                    bytes[at - 1] = b'<' + 1;
                }
                assert_eq!(find_byte(&bytes, b'<'), Some(at), "{len} {at}");
            }
            let none: Vec<u8> = (0..len).map(|i| [b';', b'=', 0x80 | b'<'][i % 3]).collect();
            assert_eq!(find_byte(&none, b'<'), None, "{len}");
        }
        assert_eq!(find_byte(&[0u8; 9], 0), Some(0));
        assert_eq!(find_byte(&[0xffu8; 17], 0xff), Some(0));
    }

    #[test]
    fn fingerprints_are_the_fnv1a_hash_of_the_name_and_stable() {
        // Fixed values: a change of the hash breaks every other build's messages.
        assert_eq!(lunatic_abi::fingerprint(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(lunatic_abi::fingerprint(b"a"), 0xaf63_dc4c_8601_ec8c);
        let u64_type = MessageType::of::<u64>();
        assert_eq!(u64_type.fingerprint(), lunatic_abi::fingerprint(b"u64"));
        assert!(u64_type.is::<u64>());
        assert!(!u64_type.is::<i64>());
        assert_ne!(
            MessageType::of::<Order>().fingerprint(),
            MessageType::of::<VersionedOrder>().fingerprint()
        );
        // A name in two parts is hashed as the joined name.
        assert_eq!(
            type_info::<VersionedOrder>().fingerprint,
            lunatic_abi::fingerprint(
                b"lunatic_core::message_type::tests::VersionedOrder as Order/2"
            )
        );
    }

    #[test]
    fn parts_are_joined_on_the_stack_when_they_fit() {
        let mut buffer = [0; 12];
        assert_eq!(
            join_into(&mut buffer, ["a::B", AS, "C"]),
            Some(&b"a::B as C"[..])
        );
        assert_eq!(join_into(&mut buffer, ["a::Bcdef", AS, "C"]), None);
    }

    #[test]
    fn the_cache_answers_what_was_worked_out() {
        for _ in 0..3 {
            assert_eq!(identity::<String>().0, "alloc::string::String");
            assert_eq!(
                identity::<Order>().1,
                lunatic_abi::fingerprint(identity::<Order>().0.as_bytes())
            );
        }
        // Many types fill the slots; each still gets its own answer.
        macro_rules! check {
            ($($t:ty),*) => {$(
                assert_eq!(identity::<$t>().0, std::any::type_name::<$t>());
            )*};
        }
        check!(
            u8,
            u16,
            u32,
            u64,
            i8,
            i16,
            i32,
            i64,
            bool,
            char,
            (),
            (u8, u8),
            Vec<u8>
        );
    }

    #[derive(Deserialize)]
    struct Many<const N: usize>;

    #[test]
    fn types_past_the_kept_entries_are_answered_too() {
        macro_rules! check {
            ($($n:literal)*) => {$(
                assert_eq!(identity::<Many<$n>>().0, std::any::type_name::<Many<$n>>());
            )*};
        }
        // More types than `KEPT` (with the other tests' own), twice: made, then found.
        for _ in 0..2 {
            check!(0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28
                29 30 31 32 33 34 35 36 37 38 39);
        }
        assert!(KEPT_ENTRIES.iter().all(|kept| kept.get().is_some()));
        let more = MORE
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        assert!(!more.is_empty());
    }
}
