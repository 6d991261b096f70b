//! procd-events: supervisord's event system (events, the listener protocol, capture mode and ticks) as
//! pure state machines: no tokio, no pipes, no OS calls, time passed in. The daemon's supervisor actor
//! feeds it lifecycle facts and carries out the [`Effect`]s it returns.
//!
//! * [`types`]: [`Event`], its name, payload and subscription matching.
//! * [`envelope`]: the header line written before each payload.
//! * [`bus`] / [`pool`] / `listener`: listener pools, their buffers and the `READY`/`RESULT` protocol;
//!   inputs are lifecycle facts, outputs are [`Effect`]s ([`effect`]) for the supervisor actor to carry
//!   out.
//! * [`capture`]: routing of a process's output (log file, capture mode, `PROCESS_LOG`/
//!   `PROCESS_COMMUNICATION` events).
//! * [`tick`]: TICK_* boundaries and the next wake-up.
//!
//! The supervisor actor owns an [`EventBus`]; it must not let anything else mutate it.

pub mod bus;
pub mod capture;
pub mod effect;
pub mod envelope;
mod listener;
pub mod pool;
pub mod pyrepr;
pub mod stdout;
pub mod tick;
pub mod types;

#[cfg(test)]
mod tests;

pub use bus::EventBus;
pub use capture::{Channel, OutputRouter, Routed, RouterConfig};
pub use effect::Effect;
pub use envelope::{Serials, envelope};
pub use pool::{Pool, PoolConfig};
pub use stdout::SoftSpace;
pub use tick::Ticker;
pub use types::{Event, OutputData, ProcessRef};
