//! What the README promises about threads, held at compile time.

use guestmem_host::{Guest, GuestFunc, Plugin};

fn send_sync<T: Send + Sync>() {}

#[test]
fn plugins_functions_and_guests_can_cross_threads() {
    send_sync::<Plugin>();
    send_sync::<GuestFunc>();
    send_sync::<Guest<()>>();
}
