//! The example guests' own source, compiled natively: the native checks and Valgrind run the code
//! that the guests build to wasm32.
//!
//! The example crates are cdylibs alone (an rlib beside the cdylib makes their modules larger:
//! see examples/minimal/Cargo.toml), so their source is included here rather than depended on.

#[path = "../../examples/array_sum/src/lib.rs"]
pub mod array_sum;
#[path = "../../examples/echo/src/lib.rs"]
pub mod echo;
#[path = "../../examples/greet/src/lib.rs"]
pub mod greet;
#[path = "../guests/imports/src/lib.rs"]
pub mod imports;
#[path = "../../examples/in_place/src/lib.rs"]
pub mod in_place;
#[path = "../../examples/replace/src/lib.rs"]
pub mod replace;
#[path = "../../examples/shapes/src/lib.rs"]
pub mod shapes;
#[path = "../../examples/upper/src/lib.rs"]
pub mod upper;
#[path = "../../examples/word_count/src/lib.rs"]
pub mod word_count;
