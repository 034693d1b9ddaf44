//! Starting one admitted request: its observation, its round of inputs
//! (stateless), its in-flight registration and abort handle, its context,
//! and the work that runs its handler and encodes the outcome.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use futures::future::{AbortHandle, Abortable};

use super::{Engine, InFlight, Step, answer};
use crate::context::RequestContext;
use crate::facts::ClientFacts;
use crate::jsonrpc::Request;
use crate::observe::{Era, RequestScope};
use crate::server::error::MethodError;
use crate::server::methods::route;
use crate::server::params::{encode_response, error_code, progress_token};
use crate::server::stateless::{
    InRound, RoundEnd, after_round, complete, input_required, open_round, takes_input,
};
use crate::session::Session;
use crate::stateless::{Cacheable, RequestMeta};
use crate::transport::Refusal;

impl Engine {
    /// Registers an admitted request in flight in `session` and returns its
    /// work: the handler of its method, run under `facts` (the session's,
    /// or a stateless request's own), yielding the encoded response.
    ///
    /// The `max_in_flight` check and the registration happen under one
    /// hold of the session lock, before the work exists: past the limit the
    /// request is answered `-32000` and never runs. The work holds an
    /// [`InFlight`] guard, so the entry leaves when the work ends or is
    /// dropped, even unpolled.
    ///
    /// When driven, the work yields the encoded response, or `None` when the
    /// request was aborted (`notifications/cancelled`, or its session closed),
    /// in which case the handler is dropped at its next poll. A panic in the
    /// handler is caught and answered `-32603`. Once the handler ended, the
    /// context is finished: progress or logs sent later through a clone of it
    /// fail with [`ContextError::RequestFinished`](crate::ContextError::RequestFinished).
    ///
    /// A `stateless` request (its `_meta` read into the given facts) has a
    /// result that carries `resultType` (and caching
    /// hints where they apply); from `tools/call`, `prompts/get` and
    /// `resources/read` its handler runs in a round of inputs, and asking
    /// the client for what it has not answered ends the request
    /// `input_required`.
    pub(in crate::server) fn start(
        self: &Arc<Self>,
        session: &Arc<Session>,
        request: Request,
        facts: ClientFacts,
        stateless: Option<&RequestMeta>,
    ) -> Step {
        let id = request.id.clone();
        let (era, in_session) = match stateless {
            Some(_) => (Era::Stateless, None),
            None => (Era::Session, Some(session.id())),
        };
        let mut scope = RequestScope::new(era, in_session, &request.method, &id);
        let asks = stateless.and_then(|meta| Some((meta, takes_input(&request.method)?)));
        let round = if let Some((meta, method)) = asks {
            let keys = self.state_keys.as_ref();
            match open_round(
                keys,
                method,
                request.params.clone(),
                meta.retry,
                meta.principal.as_deref(),
            ) {
                Ok(round) => Some(round),
                Err(error) => return Step::Encoded(answer(scope, id, Err(error))),
            }
        } else {
            None
        };
        let (abort, registration) = AbortHandle::new_pair();
        {
            let mut st = session.state();
            // Under the lock `Session::close` takes: a request registered
            // after the close would never be aborted.
            if st.closed {
                let error = MethodError::Refused(Refusal::SessionClosed);
                return Step::Encoded(answer(scope, id, Err(error)));
            }
            if st.in_flight.len() >= self.config.max_in_flight {
                return Step::Encoded(answer(scope, id, Err(MethodError::TooManyInFlight)));
            }
            st.in_flight.insert(id.clone(), abort.clone());
        }
        // A stateless request's token was read with its `_meta`.
        let progress_token = match stateless {
            Some(meta) => meta.progress_token.clone(),
            None => request.params.as_ref().and_then(progress_token),
        };
        let ctx = RequestContext::new(
            Arc::clone(&self.outlet),
            Arc::clone(session),
            facts,
            id.clone(),
            progress_token,
            abort,
            round.as_ref().map(|r| Arc::clone(&r.inputs)),
        );
        let guard = InFlight {
            session: Arc::clone(session),
            id: id.clone(),
        };
        let shared = Arc::clone(self);
        // What `complete` needs of the method, read now: no copy of its name.
        let cacheable = stateless.map(|_| Cacheable::of(&request.method));
        // The request's span is entered at each poll of its work; a request
        // dropped before its end counts as cancelled (the scope's drop).
        let span = scope.span();
        let work = Box::pin(span.instrument(async move {
            scope.begin();
            // A panicking handler is answered like any internal failure, so its
            // client is not left waiting.
            let handler =
                AssertUnwindSafe(route(&shared, request, ctx.clone(), &scope)).catch_unwind();
            let handled = match &round {
                None => Abortable::new(handler, registration).await,
                Some(round) => Abortable::new(
                    InRound::new(handler, Arc::clone(&round.inputs)),
                    registration,
                )
                .await
                .map(|end| match end {
                    RoundEnd::Done(outcome) => outcome.map(|o| after_round(round, o)),
                    // A malformed answer is refused before anything is asked again.
                    RoundEnd::InputRequired => {
                        Ok(after_round(round, input_required(&shared, round)))
                    }
                }),
            };
            ctx.finish();
            handled.ok().map(|outcome| {
                let outcome = outcome.unwrap_or(Err(MethodError::HandlerPanicked));
                let outcome = match cacheable {
                    Some(kind) => complete(&shared, kind, outcome),
                    None => outcome,
                };
                scope.finish(error_code(&outcome));
                encode_response(id, outcome)
            })
        }));
        Step::Work(work, guard)
    }
}
