//! Fuzzing a service through its gRPC surface: random bodies, and random
//! mutations of well-formed requests, sent to every method named. A service
//! passes when every answer is a status the caller can act on — never
//! INTERNAL or UNKNOWN, which would mean a bug or a crash — and it still
//! serves afterwards.
//!
//! Cases per method: `PROCEDO_FUZZ_CASES` (a short run by default; the
//! README gives the command for a long one).

use std::time::Duration;

use bytes::{Buf as _, BufMut as _};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;

/// Cases per method when `PROCEDO_FUZZ_CASES` is unset.
pub const DEFAULT_CASES: u32 = 64;

/// The cases per method this run makes.
pub fn cases() -> u32 {
    std::env::var("PROCEDO_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(DEFAULT_CASES)
}

/// Bodies sent as they are, answers read as bytes.
#[derive(Debug, Clone, Copy, Default)]
struct Raw;

#[derive(Debug, Clone, Copy, Default)]
struct RawCoder;

impl Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCoder;
    type Decoder = RawCoder;

    fn encoder(&mut self) -> RawCoder {
        RawCoder
    }

    fn decoder(&mut self) -> RawCoder {
        RawCoder
    }
}

impl Encoder for RawCoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn encode(&mut self, item: Vec<u8>, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put_slice(&item);
        Ok(())
    }
}

impl Decoder for RawCoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Vec<u8>>, tonic::Status> {
        let mut body = vec![0; src.remaining()];
        src.copy_to_slice(&mut body);
        Ok(Some(body))
    }
}

/// One method to fuzz: its path and a well-formed request body to mutate.
#[derive(Debug, Clone)]
pub struct Target {
    pub path: &'static str,
    pub seed: Vec<u8>,
}

impl Target {
    /// `/package.Service/Method`, seeded with `seed`'s encoding.
    pub fn new(path: &'static str, seed: &impl prost::Message) -> Target {
        Target {
            path,
            seed: seed.encode_to_vec(),
        }
    }
}

/// A body: random bytes, or the seed with bytes flipped, cut or added.
fn bodies(seed: Vec<u8>) -> impl Strategy<Value = Vec<u8>> {
    let random = proptest::collection::vec(any::<u8>(), 0..256);
    let edits =
        proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>(), 0..3u8), 0..8);
    let mutated = edits.prop_map(move |edits| {
        let mut body = seed.clone();
        for (at, byte, kind) in edits {
            match kind {
                0 if !body.is_empty() => {
                    let i = at.index(body.len());
                    body[i] = byte;
                }
                1 if !body.is_empty() => {
                    body.truncate(at.index(body.len()));
                }
                _ => {
                    let i = at.index(body.len() + 1);
                    body.insert(i, byte);
                }
            }
        }
        body
    });
    prop_oneof![random, mutated]
}

/// The runtime a fuzz test runs its service on, and blocks on for each
/// call: two workers, as the machine has.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime")
}

/// Sends `cases()` fuzzed bodies to each target as `bearer`, on `runtime`
/// (the service runs there too). Panics naming the method and the body
/// of the first answer that is INTERNAL or UNKNOWN.
pub fn fuzz(
    runtime: &tokio::runtime::Runtime,
    channel: &Channel,
    bearer: &str,
    targets: &[Target],
) {
    let bearer: tonic::metadata::MetadataValue<_> =
        format!("Bearer {bearer}").parse().expect("an ASCII token");
    for target in targets {
        let mut runner = TestRunner::new(Config {
            cases: cases(),
            failure_persistence: None,
            ..Config::default()
        });
        let outcome = runner.run(&bodies(target.seed.clone()), |body| {
            let answer = runtime.block_on(async {
                let mut grpc = tonic::client::Grpc::new(channel.clone());
                grpc.ready()
                    .await
                    .map_err(|e| tonic::Status::unavailable(e.to_string()))?;
                let mut request = tonic::Request::new(body.clone());
                request
                    .metadata_mut()
                    .insert("authorization", bearer.clone());
                request.set_timeout(Duration::from_secs(10));
                grpc.unary(
                    request,
                    tonic::codegen::http::uri::PathAndQuery::from_static(target.path),
                    Raw,
                )
                .await
            });
            match answer {
                Err(status)
                    if matches!(status.code(), tonic::Code::Internal | tonic::Code::Unknown) =>
                {
                    Err(TestCaseError::fail(format!(
                        "{} answered {status:?} to {body:?}",
                        target.path
                    )))
                }
                _ => Ok(()),
            }
        });
        if let Err(failure) = outcome {
            panic!("{}: {failure}", target.path);
        }
    }
}
