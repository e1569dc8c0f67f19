//! The endpoint pool and the readiness check against real sockets:
//! routing to the least-loaded endpoint, counted retries only when nothing
//! reached a server, cancellation, many concurrent streams.

mod common;

use std::sync::Arc;
use std::time::Duration;

use backend::{
    check_ready, Backend, BackendError, EndpointPool, HttpConfig, RequestLabel, SglangBackend,
    TransportError, TransportKind,
};
use common::*;
use serde_json::json;

fn finished_reply(ids: &[u32]) -> Vec<Step> {
    json(
        200,
        &json!({"output_ids": ids, "meta_info": {"prompt_tokens": 1,
        "completion_tokens": ids.len(), "finish_reason": {"type": "length", "length": ids.len()}}}),
    )
}

fn short_stream() -> Vec<Step> {
    vec![
        sse_head(),
        event(
            &json!({"output_ids": [1], "meta_info": {"completion_tokens": 1, "finish_reason": null}}),
        ),
        event(
            &json!({"output_ids": [1, 2], "meta_info": {"completion_tokens": 2,
            "finish_reason": {"type": "length", "length": 2}}}),
        ),
        done(),
        end(),
    ]
}

#[tokio::test]
async fn a_refused_connection_is_retried_elsewhere_and_counted() {
    let dead = dead_url().await;
    let live = TestServer::start(|_, _| finished_reply(&[4, 5])).await;
    let pool =
        EndpointPool::new(&[dead.as_str(), live.url.as_str()], HttpConfig::default()).unwrap();
    let backend = SglangBackend::new(pool.clone());
    for _ in 0..6 {
        let (_, out) = collect(backend.generate(request(&[1], 2, false)).await.unwrap()).await;
        assert_eq!(out.unwrap().output_ids, vec![4, 5]);
    }
    let stats = pool.stats();
    let (d, l) = (&stats.endpoints[0], &stats.endpoints[1]);
    assert!(d.connect_errors >= 1, "{stats:?}");
    // Every refused try was followed by one counted retry on the live endpoint.
    assert_eq!(l.retries, d.connect_errors, "{stats:?}");
    assert_eq!(stats.retries(), d.connect_errors);
    assert_eq!((l.completed, d.completed, stats.failed()), (6, 0, 0));
    assert_eq!(live.requests(), 6);
}

#[tokio::test]
async fn an_unreachable_server_fails_after_counted_retries() {
    let dead = dead_url().await;
    let config = HttpConfig {
        max_connect_retries: 2,
        ..HttpConfig::default()
    };
    let pool = EndpointPool::new(&[dead.as_str()], config).unwrap();
    let backend = SglangBackend::new(pool.clone());
    let err = backend.generate(request(&[1], 2, true)).await.unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains(&dead) && text.contains("cannot connect after 3 tries"),
        "{text}"
    );
    let stats = pool.stats();
    assert_eq!(
        (stats.retries(), stats.connect_errors(), stats.failed()),
        (2, 3, 1)
    );
    assert_eq!(stats.outstanding(), 0);
}

#[tokio::test]
async fn a_request_that_reached_the_server_is_not_retried() {
    // The server reads the request and hangs up without answering.
    let server = TestServer::start(|_, _| vec![Step::Close]).await;
    let pool = EndpointPool::new(&[server.url.as_str()], HttpConfig::default()).unwrap();
    let backend = SglangBackend::new(pool.clone());
    let err = backend.generate(request(&[1], 2, false)).await.unwrap_err();
    assert!(err.to_string().contains("not retried"), "{err}");
    assert_eq!(server.requests(), 1);
    assert_eq!(pool.stats().retries(), 0);
}

#[tokio::test]
async fn requests_go_to_the_endpoint_with_fewest_outstanding() {
    // `busy` opens a stream and never finishes it; `free` answers at once.
    let busy = TestServer::start(|_, _| {
        vec![
            sse_head(),
            event(&json!({"output_ids": [1], "meta_info": {"completion_tokens": 1}})),
            Step::Hang,
        ]
    })
    .await;
    let free = TestServer::start(|_, _| short_stream()).await;
    let pool = EndpointPool::new(
        &[busy.url.as_str(), free.url.as_str()],
        HttpConfig::default(),
    )
    .unwrap();
    let backend = SglangBackend::new(pool.clone());
    // Two at once: one lands on each endpoint.
    let g1 = backend.generate(request(&[1], 2, true)).await.unwrap();
    let g2 = backend.generate(request(&[1], 2, true)).await.unwrap();
    assert_eq!((busy.requests(), free.requests()), (1, 1));
    let (_, out) = collect(g2).await;
    out.unwrap();
    // Now busy has one outstanding, free none: everything goes to free.
    for _ in 0..5 {
        let (_, out) = collect(backend.generate(request(&[1], 2, true)).await.unwrap()).await;
        out.unwrap();
    }
    assert_eq!((busy.requests(), free.requests()), (1, 6));
    let stats = pool.stats();
    assert_eq!(
        (
            stats.endpoints[0].outstanding,
            stats.endpoints[1].outstanding
        ),
        (1, 0)
    );
    // Dropping the generation cancels it and frees the endpoint.
    drop(g1);
    let mut waited = 0;
    while pool.stats().outstanding() > 0 && waited < 200 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        waited += 1;
    }
    assert_eq!(pool.stats().outstanding(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_streams() {
    let server = TestServer::start(|_, _| short_stream()).await;
    let pool = EndpointPool::new(&[server.url.as_str()], HttpConfig::default()).unwrap();
    let backend = Arc::new(SglangBackend::new(pool.clone()));
    let mut tasks = Vec::new();
    for _ in 0..1000 {
        let b = backend.clone();
        tasks.push(tokio::spawn(async move {
            let g = b.generate(request(&[1], 2, true)).await?;
            let (batches, out) = collect(g).await;
            assert_eq!(batches.concat(), vec![1, 2]);
            out
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap().output_ids, vec![1, 2]);
    }
    let stats = pool.stats();
    assert_eq!(
        (
            stats.completed(),
            stats.failed(),
            stats.retries(),
            stats.outstanding()
        ),
        (1000, 0, 0, 0)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_request_after_another_reuses_one_connection() {
    let server = TestServer::start(|seen, _| {
        if seen.body["stream"] == json!(true) {
            // `[DONE]` and the body's end in one write, as servers send
            // them, so the connection is free before the result arrives.
            let mut steps = short_stream();
            let (Some(Step::Write(end)), Some(Step::Write(done))) = (steps.pop(), steps.pop())
            else {
                unreachable!("short_stream ends with two writes")
            };
            steps.push(Step::Write([done, end].concat()));
            steps
        } else {
            finished_reply(&[4, 5])
        }
    })
    .await;
    let pool = EndpointPool::new(&[server.url.as_str()], HttpConfig::default()).unwrap();
    let backend = SglangBackend::new(pool.clone());
    for i in 0..10 {
        let (_, out) = collect(
            backend
                .generate(request(&[1], 2, i % 2 == 0))
                .await
                .unwrap(),
        )
        .await;
        out.unwrap();
    }
    let stats = pool.stats();
    assert_eq!(
        (stats.completed(), stats.endpoints[0].connections),
        (10, 1),
        "{stats:?}"
    );
    assert_eq!(server.requests(), 10);
}

#[tokio::test]
async fn readiness_names_the_url_when_a_server_is_missing() {
    let config = HttpConfig::default();
    let t = Duration::from_secs(10);
    let dead = dead_url().await;
    let err = check_ready(&config, &dead, t)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains(&dead) && err.contains("unreachable"), "{err}");

    // /health is missing (404) but /v1/models answers, as on some servers.
    let ok = TestServer::start(|seen, _| match seen.path.as_str() {
        "/v1/models" => json(
            200,
            &json!({"object": "list", "data": [{"id": "gpt-oss", "object": "model"}]}),
        ),
        _ => json(404, &json!({"detail": "Not Found"})),
    })
    .await;
    let ready = check_ready(&config, &ok.url, t).await.unwrap();
    assert_eq!(
        (ready.probe.as_str(), ready.models.clone()),
        ("/v1/models", vec!["gpt-oss".to_owned()])
    );

    let sick = TestServer::start(|_, _| json(500, &json!({"error": "loading weights"}))).await;
    let err = check_ready(&config, &sick.url, t)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&sick.url) && err.contains("not ready") && err.contains("loading weights"),
        "{err}"
    );

    let pool = EndpointPool::new(&[ok.url.as_str(), dead.as_str()], HttpConfig::default()).unwrap();
    let err = pool.check_ready(t).await.unwrap_err().to_string();
    assert!(err.contains(&dead), "{err}");
}

/// The kind, endpoint and request of a failed request's error.
fn transport(err: BackendError) -> (TransportKind, String, RequestLabel) {
    match err {
        BackendError::Transport(TransportError {
            kind,
            endpoint,
            request,
            ..
        }) => (kind, endpoint, request),
        other => panic!("not a transport error: {other:?}"),
    }
}

#[tokio::test]
async fn transport_errors_say_what_kind_of_failure_they_are() {
    let dead = dead_url().await;
    let hangs_up = TestServer::start(|_, _| vec![Step::Close]).await;
    let silent = TestServer::start(|_, _| vec![Step::Hang]).await;
    let config = HttpConfig {
        max_connect_retries: 0,
        request_timeout: Duration::from_millis(300),
        ..HttpConfig::default()
    };
    for (url, kind) in [
        (&dead, TransportKind::Connect),
        (&hangs_up.url, TransportKind::Sent),
        (&silent.url, TransportKind::Timeout),
    ] {
        let backend =
            SglangBackend::new(EndpointPool::new(&[url.as_str()], config.clone()).unwrap());
        let err = backend
            .generate(request(&[1, 2], 2, true))
            .await
            .unwrap_err();
        let (got, endpoint, label) = transport(err);
        assert_eq!((got, endpoint.as_str()), (kind, url.as_str()));
        assert_eq!(
            label,
            RequestLabel::Generate {
                url: format!("{url}/generate"),
                number: 1,
                prompt_tokens: 2,
                stream: true
            }
        );
    }
    let err = check_ready(&config, &dead, Duration::from_secs(10))
        .await
        .unwrap_err();
    let (kind, endpoint, label) = transport(err);
    assert_eq!(
        (kind, endpoint.as_str()),
        (TransportKind::Connect, dead.as_str())
    );
    assert_eq!(
        label,
        RequestLabel::Probe {
            endpoint: dead.clone()
        }
    );
}
