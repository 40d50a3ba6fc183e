//! Admission control: how many requests may have the МИС working for them at once.
//!
//! A МИС answers a few dozen calls at a time; on a release morning thousands of patients ask
//! at once. Rather than letting every request queue for the МИС until it times out (and the
//! patient is told something went wrong), a request is admitted before its first МИС call:
//! it takes a place among the calls in flight for its clinic (`[clinics.mis] max_in_flight`)
//! and in all (`server.max_in_flight`), or waits for one, and is answered `503 overloaded`
//! with a `Retry-After` with jitter, before anything was done, when it cannot start soon:
//!
//! - at once, when the places will not free up for it within `server.queue_wait_ms`: how long
//!   requests hold a place is measured (a moving average), so a request that finds `n` waiting
//!   ahead of it expects to wait `(n + 1) × hold ÷ places`;
//! - at once, when `server.max_queued` wait already (a bound on memory, whatever the estimate);
//! - after `server.queue_wait_ms`, if it waited and no place freed up.
//!
//! - A request keeps its places until it ends, with every task carried from it
//!   ([`crate::context::carried`]): a booking admitted makes all its calls (the booking, the
//!   read-back of a lost answer) and finishes; it is never refused halfway.
//! - What needs no МИС call (a cached directory read, a session ended) is never held back.
//! - Background work (readiness probes, the breaker's probes) runs outside any request and is
//!   not counted.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How many МИС calls one clinic takes at once unless its configuration says otherwise.
pub const DEFAULT_IN_FLIGHT: usize = 32;
/// How long a request waits for a place by default before it is told to retry.
pub const DEFAULT_QUEUE_WAIT: Duration = Duration::from_millis(1_000);

/// One bound on the requests the МИС works for at once: a clinic's, a region's, or the
/// gateway's.
#[derive(Debug)]
pub struct Admission {
    /// Whose bound this is, in metrics: a clinic's id, a region's, or `all`.
    name: String,
    /// Whether its calls in flight are a series of their own (a region's clinics are not:
    /// there can be ten thousand; their refusals count under their region's name).
    gauged: bool,
    places: Arc<Semaphore>,
    capacity: usize,
    waiting: AtomicUsize,
    max_waiting: usize,
    wait: Duration,
    /// How long a request holds a place, microseconds: a moving average (a new hold counts
    /// for an eighth).
    hold_us: AtomicU64,
}

/// A request's place in one bound, held until it ends.
#[derive(Debug)]
pub struct Admitted {
    place: Option<OwnedSemaphorePermit>,
    /// The bound it was taken in: how long it was held counts in its average, and how many
    /// are in flight is shown once it is let go.
    bound: Arc<Admission>,
    since: std::time::Instant,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        self.place = None;
        let held = u64::try_from(self.since.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.bound.held(held);
        self.bound.gauge();
    }
}

/// No place freed up soon enough: the request is told to retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Overloaded;

/// Decrements a count when dropped (a waiter that stops waiting, however it stops).
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Admission {
    /// A bound of `in_flight` requests at once (at least one), with at most `max_waiting`
    /// waiting up to `wait` for a place.
    pub fn new(name: &str, in_flight: usize, max_waiting: usize, wait: Duration) -> Self {
        let capacity = in_flight.clamp(1, Semaphore::MAX_PERMITS);
        Self {
            name: name.to_owned(),
            gauged: true,
            places: Arc::new(Semaphore::new(capacity)),
            capacity,
            waiting: AtomicUsize::new(0),
            max_waiting,
            wait,
            hold_us: AtomicU64::new(0),
        }
    }

    /// Counts a hold of `us` microseconds in the average.
    fn held(&self, us: u64) {
        let _ = self
            .hold_us
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |old| {
                Some(if old == 0 { us } else { old - old / 8 + us / 8 })
            });
    }

    /// Whether a request with `ahead` waiting before it can expect a place within the wait.
    fn soon_enough(&self, ahead: usize) -> bool {
        let hold = u128::from(self.hold_us.load(Ordering::Acquire));
        let expected_us = (ahead as u128 + 1) * hold / self.capacity as u128;
        expected_us <= self.wait.as_micros()
    }

    /// A bound as [`Self::new`] makes it whose calls in flight are no series of their own;
    /// its refusals count under `name` (a region's clinics: `<region>-clinic`).
    pub fn ungauged(name: &str, in_flight: usize, max_waiting: usize, wait: Duration) -> Self {
        Self {
            gauged: false,
            ..Self::new(name, in_flight, max_waiting, wait)
        }
    }

    /// Shows how many hold a place now, where this bound is a series of its own.
    fn gauge(&self) {
        if self.gauged {
            crate::metrics::in_flight(&self.name, self.in_flight());
        }
    }

    /// No bound to speak of (tests, and a gateway whose settings set none).
    pub fn unbounded(name: &str) -> Self {
        Self::new(name, Semaphore::MAX_PERMITS, 0, Duration::ZERO)
    }

    /// How many hold a place now.
    pub fn in_flight(&self) -> usize {
        self.capacity - self.places.available_permits()
    }

    /// A place: one free now, or one that frees up within the wait (if not too many wait
    /// already).
    async fn place(&self) -> Result<OwnedSemaphorePermit, Overloaded> {
        if let Ok(place) = self.places.clone().try_acquire_owned() {
            return Ok(place);
        }
        let refused = || {
            crate::metrics::overloaded(&self.name);
            Overloaded
        };
        let ahead = self.waiting.fetch_add(1, Ordering::AcqRel);
        if ahead >= self.max_waiting || !self.soon_enough(ahead) {
            self.waiting.fetch_sub(1, Ordering::AcqRel);
            return Err(refused());
        }
        let _waiting = Waiting(&self.waiting);
        match tokio::time::timeout(self.wait, self.places.clone().acquire_owned()).await {
            Ok(Ok(place)) => Ok(place),
            _ => Err(refused()),
        }
    }
}

/// Admits the request being handled to a МИС call under `bounds` (the clinic's, its
/// region's where it has one, then the gateway's): a place in each it does not hold yet. A
/// request holds its places until it ends; a call at another clinic takes a place there too.
/// Outside a request (background work) nothing is taken. When one bound refuses, the places
/// taken for this call are let go.
pub async fn enter(bounds: &[&Arc<Admission>]) -> Result<(), Overloaded> {
    let mut taken = Vec::with_capacity(bounds.len());
    for bound in bounds {
        let id = identity(bound);
        match crate::context::holds(id) {
            None | Some(true) => continue,
            Some(false) => {}
        }
        let place = bound.place().await?;
        taken.push((
            id,
            Admitted {
                place: Some(place),
                bound: Arc::clone(bound),
                since: std::time::Instant::now(),
            },
        ));
    }
    for (id, admitted) in taken {
        admitted.bound.gauge();
        crate::context::admit(id, Box::new(admitted));
    }
    Ok(())
}

/// A bound's identity in the request's places: its address, which lives as long as it does.
fn identity(bound: &Arc<Admission>) -> usize {
    Arc::as_ptr(bound) as usize
}

/// Seconds to wait before a retry: 1 to 3, spread at random so that the patients told to
/// retry do not all come back in the same second.
pub fn retry_after() -> u64 {
    let mut b = [0u8; 1];
    let spread = if getrandom::fill(&mut b).is_ok() {
        u64::from(b[0] % 3)
    } else {
        1
    };
    1 + spread
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn in_request<F: std::future::Future>(work: F) -> F::Output {
        crate::context::scope("test".into(), work).await
    }

    #[tokio::test]
    async fn a_request_holds_its_place_until_it_ends_and_one_call_of_it_admits_the_rest() {
        let all = Arc::new(Admission::new("all", 10, 0, Duration::ZERO));
        let clinic = Arc::new(Admission::new("c", 1, 0, Duration::ZERO));
        in_request(async {
            assert_eq!(enter(&[&clinic, &all]).await, Ok(()));
            assert_eq!(clinic.in_flight(), 1);
            // Its next calls: admitted already.
            assert_eq!(enter(&[&clinic, &all]).await, Ok(()));
            assert_eq!(all.in_flight(), 1);
            // Another request meanwhile: no place, no waiting allowed.
            let other = in_request(enter(&[&clinic, &all])).await;
            assert_eq!(other, Err(Overloaded));
        })
        .await;
        assert_eq!((all.in_flight(), clinic.in_flight()), (0, 0), "let go");
        assert_eq!(in_request(enter(&[&clinic, &all])).await, Ok(()));
    }

    #[tokio::test]
    async fn every_clinic_a_request_calls_takes_a_place_there_and_a_part_s_go_with_it() {
        let all = Arc::new(Admission::new("all", 10, 0, Duration::ZERO));
        let region = Arc::new(Admission::new("r", 10, 0, Duration::ZERO));
        let a = Arc::new(Admission::new("a", 1, 0, Duration::ZERO));
        let b = Arc::new(Admission::new("b", 1, 0, Duration::ZERO));
        in_request(async {
            enter(&[&a, &region, &all]).await.expect("a place at a");
            // A call at another clinic is no call at the first: it takes b's place.
            enter(&[&b, &region, &all]).await.expect("a place at b");
            assert_eq!(
                (
                    a.in_flight(),
                    b.in_flight(),
                    region.in_flight(),
                    all.in_flight()
                ),
                (1, 1, 1, 1)
            );
            let other = in_request(enter(&[&b, &region, &all])).await;
            assert_eq!(other, Err(Overloaded), "b's one place is this request's");
            // A part of the request (one clinic of an answer across many) holds its own
            // places, let go when it ends.
            let c = Arc::new(Admission::new("c", 1, 0, Duration::ZERO));
            crate::context::part(async {
                enter(&[&c, &region, &all]).await.expect("a place at c");
                assert_eq!((c.in_flight(), region.in_flight()), (1, 2));
            })
            .await;
            assert_eq!((c.in_flight(), region.in_flight()), (0, 1));
        })
        .await;
        assert_eq!((a.in_flight(), b.in_flight(), all.in_flight()), (0, 0, 0));
    }

    #[tokio::test]
    async fn a_bound_that_refuses_lets_go_of_the_places_taken_for_the_call() {
        let all = Arc::new(Admission::new("all", 1, 0, Duration::ZERO));
        let clinic = Arc::new(Admission::new("c", 5, 0, Duration::ZERO));
        let _held = all.places.clone().try_acquire_owned().expect("a place");
        let refused = in_request(enter(&[&clinic, &all])).await;
        assert_eq!(refused, Err(Overloaded));
        assert_eq!(clinic.in_flight(), 0, "the clinic's place went back");
    }

    #[tokio::test]
    async fn work_outside_a_request_is_never_held_back() {
        let full = Arc::new(Admission::new("c", 1, 0, Duration::ZERO));
        let _held = full.places.clone().try_acquire_owned().expect("a place");
        assert_eq!(enter(&[&full, &full]).await, Ok(()));
    }

    #[tokio::test]
    async fn a_waiter_gets_the_place_freed_within_the_wait_and_the_waiters_are_bounded() {
        let bound = Arc::new(Admission::new("c", 1, 1, Duration::from_secs(5)));
        let all = Arc::new(Admission::unbounded("all"));
        let (release, released) = tokio::sync::oneshot::channel::<()>();
        let holder = {
            let (bound, all) = (bound.clone(), all.clone());
            tokio::spawn(in_request(async move {
                enter(&[&bound, &all]).await.expect("admitted");
                let _ = released.await;
            }))
        };
        while bound.in_flight() == 0 {
            tokio::task::yield_now().await;
        }
        let waiter = {
            let (bound, all) = (bound.clone(), all.clone());
            tokio::spawn(in_request(async move { enter(&[&bound, &all]).await }))
        };
        while bound.waiting.load(Ordering::Acquire) == 0 {
            tokio::task::yield_now().await;
        }
        // One waits already: the next is refused at once, without waiting.
        assert_eq!(in_request(enter(&[&bound, &all])).await, Err(Overloaded));
        release.send(()).expect("the holder waits");
        holder.await.expect("ends");
        assert_eq!(waiter.await.expect("ends"), Ok(()));
        assert_eq!(bound.waiting.load(Ordering::Acquire), 0);
    }

    #[tokio::test]
    async fn a_flood_of_refused_requests_leaves_no_waiter_counted() {
        let bound = Arc::new(Admission::new("c", 1, 8, Duration::from_millis(1)));
        let all = Arc::new(Admission::unbounded("all"));
        let _held = bound.places.clone().try_acquire_owned().expect("a place");
        let refused = futures_util::future::join_all((0..1_000).map(|_| {
            let (bound, all) = (bound.clone(), all.clone());
            in_request(async move { enter(&[&bound, &all]).await })
        }))
        .await;
        assert!(refused.iter().all(|r| *r == Err(Overloaded)));
        assert_eq!(bound.waiting.load(Ordering::Acquire), 0);
    }

    #[tokio::test]
    async fn a_request_that_cannot_start_within_the_wait_is_refused_without_waiting() {
        // A wait of an hour: a request that waited would not be answered within the test.
        let bound = Arc::new(Admission::new("c", 2, 100, Duration::from_secs(3_600)));
        let all = Arc::new(Admission::unbounded("all"));
        // Requests hold a place 2 500 s on average: with two places, the first waiter expects
        // 1 250 s, the second 2 500 s, the third 3 750 s (past the wait).
        bound.held(2_500_000_000);
        let _held = (
            bound.places.clone().try_acquire_owned().expect("a place"),
            bound.places.clone().try_acquire_owned().expect("a place"),
        );
        let waiters: Vec<_> = (0..2)
            .map(|_| {
                let (bound, all) = (bound.clone(), all.clone());
                tokio::spawn(in_request(async move { enter(&[&bound, &all]).await }))
            })
            .collect();
        while bound.waiting.load(Ordering::Acquire) < 2 {
            tokio::task::yield_now().await;
        }
        let third =
            tokio::time::timeout(Duration::from_secs(60), in_request(enter(&[&bound, &all]))).await;
        assert_eq!(third, Ok(Err(Overloaded)), "refused, without waiting");
        assert_eq!(
            bound.waiting.load(Ordering::Acquire),
            2,
            "the two still wait"
        );
        for waiter in waiters {
            waiter.abort();
        }
    }

    #[test]
    fn retry_after_is_spread_over_one_to_three_seconds() {
        let seen: std::collections::BTreeSet<u64> = (0..300).map(|_| retry_after()).collect();
        assert_eq!(seen, [1, 2, 3].into_iter().collect());
    }
}
