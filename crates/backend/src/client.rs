//! One generation request over HTTP, whatever the protocol: check the
//! request, encode it, post it through the pool, and read the reply on a
//! task of its own. A protocol says only what differs ([`Protocol`]).

use serde::Serialize;

use crate::pool::EndpointPool;
use crate::stream::{self, Reply};
use crate::{BackendError, GenerateRequest, Generation};

/// What one HTTP protocol (SGLang's `/generate`, OpenAI's `/v1/completions`)
/// adds to the shared request path.
pub(crate) trait Protocol {
    /// The path requests are posted to, after the endpoint's prefix.
    const PATH: &'static str;
    /// How this protocol's replies are read.
    type Reply: Reply;
    /// The request body, in this protocol's shape.
    fn body(&self, request: GenerateRequest) -> impl Serialize;
    /// A fresh reader for one reply to a prompt of `prompt_tokens` ids.
    fn reply(&self, prompt_tokens: usize) -> Self::Reply;
}

/// Sends `request` to `pool` in `protocol`'s shape; the reply's events
/// arrive on the returned [`Generation`]. Refused before anything is sent:
/// sampling settings out of range, and stop ids the benchmark forbids.
pub(crate) async fn generate<P: Protocol>(
    pool: &EndpointPool,
    protocol: &P,
    request: GenerateRequest,
) -> Result<Generation, BackendError> {
    request.sampling.validate()?;
    crate::settings::check_stop_ids(&request.sampling)?;
    let prompt_tokens = request.input_ids.len();
    let stream = request.stream;
    let body = serde_json::to_vec(&protocol.body(request))
        .map_err(|e| BackendError::Internal(format!("cannot encode the request: {e}")))?;
    let started = pool.post(P::PATH, body, prompt_tokens, stream).await?;
    let (tx, generation) = Generation::channel();
    stream::spawn(
        started,
        protocol.reply(prompt_tokens),
        tx,
        pool.config().idle_timeout,
    );
    Ok(generation)
}
