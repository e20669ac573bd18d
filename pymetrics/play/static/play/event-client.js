/**
 * PymetricsEventClient: the one way every game plugin sends its events.
 *
 * Contract (docs: shared DESIGN.md 4.3 and 4.5):
 *   - each event is {seq, t, type, data}; seq increases by one per game session,
 *     t is milliseconds since start() (performance.now based, float);
 *   - events are POSTed in batches as {"events": [...]} with
 *     `Authorization: Bearer <session token>`; the server answers
 *     {"acked_seq", "accepted", "duplicates"} and we forget every event whose
 *     seq <= acked_seq;
 *   - network errors, 5xx and 429 are retried with exponential backoff and jitter
 *     (the same events with the same seq: the server dedupes by seq);
 *   - any other 4xx is final: onError(body.error) is called and sending stops;
 *   - the buffer is persisted in storage (localStorage) under
 *     `pymetrics:events:<gameSessionId>`, so a reload loses nothing: the next page
 *     re-loads it, continues the seq numbering and re-sends what was not acked.
 *
 * WebSocket transport (DESIGN.md 4.4), used when `socketUrl` is given and the
 * browser has WebSocket; the buffer stays the source of truth either way:
 *   - start() opens `ws(s)://<host>/ws/play/<id>/?token=...`; the server greets with
 *     {"type": "hello", "acked_seq"}: we drop what it has and send the rest, in order,
 *     as {"type": "events", "events": [...]} frames of at most maxBatch events (and
 *     1000 events, 1 MiB), one frame in flight at a time; {"type": "ack", "acked_seq"}
 *     drops what it covers;
 *   - {"type": "ping"} is answered with {"type": "pong"};
 *   - an error frame naming acked_seq (an invalid event) is final, like an HTTP 4xx;
 *     so are close codes 4400, 4401, 4403, 4413 (and any other 44xx but 4408 and
 *     4429): onError once, nothing more is sent;
 *   - {"type": "reconnect", "after_ms"} announces that the server is restarting
 *     (it closes with 1012 "service restart" next): the client reconnects after
 *     after_ms (the server's jitter, capped at RESTART_MAX_MS), which counts as
 *     neither a failed connection nor a backoff step;
 *   - any other close (1006, 1001, 1011, 1012, 4408 idle, 4429 rate limited ...) or no
 *     answer within socketTimeoutMs reconnects after backoff with jitter; the next
 *     hello says where to resume, so nothing is lost and nothing is sent twice
 *     on purpose (a resent frame is deduped by seq on the server);
 *   - after socketFailuresBeforeHttp connection attempts in a row that never got
 *     a hello, the page switches to the HTTP endpoints for good;
 *   - complete() drains the buffer, sends {"type": "complete"} and resolves on
 *     {"type": "completed"} (or completes over HTTP if it fell back meanwhile).
 *
 * Plain script (no bundler): defines the global `PymetricsEventClient`, and
 * `module.exports` under node so js-tests/ can load it.
 */
(function (root) {
  'use strict';

  var STORAGE_PREFIX = 'pymetrics:events:';
  var STORAGE_VERSION = 1;
  // Browsers refuse keepalive requests whose pending bodies exceed 64 KiB in total.
  var KEEPALIVE_MAX_BYTES = 60000;
  // The EventStream socket's limits per frame (DESIGN.md 4.4).
  var FRAME_MAX_EVENTS = 1000;
  var FRAME_MAX_BYTES = 1024 * 1024;
  // The longest a restarting server may ask the client to wait before reconnecting.
  var RESTART_MAX_MS = 30000;

  function memoryStorage() {
    var items = {};
    return {
      getItem: function (key) {
        return Object.prototype.hasOwnProperty.call(items, key) ? items[key] : null;
      },
      setItem: function (key, value) {
        items[key] = String(value);
      },
      removeItem: function (key) {
        delete items[key];
      },
    };
  }

  function defaultStorage() {
    // localStorage can be missing or throw (privacy modes, disabled cookies): fall
    // back to memory so the game still runs; only reload-resume is lost then.
    try {
      if (typeof localStorage !== 'undefined' && localStorage) {
        var probe = STORAGE_PREFIX + 'probe';
        localStorage.setItem(probe, '1');
        localStorage.removeItem(probe);
        return localStorage;
      }
    } catch (err) {
      /* fall through */
    }
    return memoryStorage();
  }

  function defaultFetch() {
    if (typeof fetch === 'function') {
      return fetch.bind(root);
    }
    return function () {
      return Promise.reject(new Error('fetch is not available'));
    };
  }

  function defaultNow() {
    return performance.now();
  }

  function roundMs(value) {
    return Math.round(value * 1000) / 1000;
  }

  function defaultWebSocket() {
    return typeof WebSocket === 'function' ? WebSocket : null;
  }

  /**
   * The absolute ws:/wss: URL of `url`: kept when it is already ws(s):, http(s):
   * becomes ws(s):, a path is resolved against `loc` (wss: on an https: page).
   * Null when it cannot be resolved (no location to resolve a path against).
   */
  function resolveSocketUrl(url, loc) {
    if (!url) {
      return null;
    }
    url = String(url);
    if (/^wss?:\/\//i.test(url)) {
      return url;
    }
    if (/^https?:\/\//i.test(url)) {
      return url.replace(/^http/i, 'ws');
    }
    if (!loc || !loc.host) {
      return null;
    }
    var scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
    if (url.slice(0, 2) === '//') {
      return scheme + url;
    }
    if (url.charAt(0) === '/') {
      return scheme + '//' + loc.host + url;
    }
    if (typeof URL === 'function' && loc.href) {
      try {
        var resolved = new URL(url, loc.href);
        return scheme + '//' + resolved.host + resolved.pathname + resolved.search;
      } catch (err) {
        return null;
      }
    }
    return null;
  }

  /** Length of `text` in UTF-8 bytes. */
  function utf8Length(text) {
    var bytes = 0;
    for (var i = 0; i < text.length; i++) {
      var c = text.charCodeAt(i);
      if (c < 0x80) {
        bytes += 1;
      } else if (c < 0x800) {
        bytes += 2;
      } else if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length &&
                 (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
        bytes += 4; // a surrogate pair
        i += 1;
      } else {
        bytes += 3;
      }
    }
    return bytes;
  }

  /** A close the server means for good (mirrors a final HTTP 4xx). */
  /** The reconnect delay a restarting server asked for, within [0, RESTART_MAX_MS]. */
  function restartDelay(afterMs) {
    var ms = Number(afterMs);
    if (!Number.isFinite(ms) || ms < 0) {
      return 0;
    }
    return Math.min(ms, RESTART_MAX_MS);
  }

  function isFinalClose(code) {
    return code >= 4400 && code < 4500 && code !== 4408 && code !== 4429;
  }

  /** The server refused a request for good; `error` is its {code, message, details}. */
  class HttpError extends Error {
    constructor(status, error) {
      super((error && error.message) || 'HTTP ' + status);
      this.name = 'HttpError';
      this.status = status;
      this.error = error;
    }
  }

  class PymetricsEventClient {
    /**
     * @param {object} options
     * @param {string} options.eventsUrl   POST target for event batches.
     * @param {string} options.completeUrl POST target that ends the game session.
     * @param {string} options.sessionToken bearer token of the candidate's attempt.
     * @param {number|string} options.gameSessionId used to name the storage key.
     * @param {number} [options.startSeq=1] first seq when nothing is buffered
     *   (the server's next expected seq when resuming).
     * @param {Function} [options.fetchImpl] fetch-compatible function.
     * @param {Storage} [options.storage] localStorage-compatible object.
     * @param {Function} [options.now] monotonic clock in ms (performance.now).
     * @param {number} [options.flushIntervalMs=250] how long events may wait.
     * @param {number} [options.maxBatch=200] events per POST; reaching it flushes at once.
     * @param {Function} [options.onStatus] called with 'reconnecting' or 'ok' on changes.
     * @param {Function} [options.onError] called once with the server's error object
     *   ({code, message, details}) when it refuses the events for good.
     * @param {number} [options.backoffBaseMs=500] first retry delay (before jitter).
     * @param {number} [options.backoffMaxMs=10000] retry delay cap.
     * @param {Function} [options.random] Math.random, for jitter.
     * @param {Function} [options.setTimer] setTimeout-compatible.
     * @param {Function} [options.clearTimer] clearTimeout-compatible.
     * @param {object} [options.documentTarget] where visibilitychange is heard.
     * @param {object} [options.windowTarget] where blur/focus/pagehide are heard.
     * @param {string} [options.socketUrl] the EventStream socket, absolute (ws:, wss:)
     *   or a path resolved against `location` (ws: from http:, wss: from https:).
     *   Without it, or without WebSocket support, events go over HTTP only.
     * @param {Function} [options.WebSocketImpl] WebSocket constructor (default: the
     *   global WebSocket; null forces HTTP).
     * @param {object} [options.location] what a socketUrl path is resolved against.
     * @param {number} [options.socketFailuresBeforeHttp=3] connection attempts in a
     *   row without a hello after which the page uses HTTP for good (0: never).
     * @param {number} [options.socketTimeoutMs=15000] how long to wait for the
     *   server's hello, ack or completed before the socket counts as dead (0: forever).
     */
    constructor(options) {
      var o = options || {};
      if (!o.eventsUrl || !o.completeUrl || !o.sessionToken || o.gameSessionId === undefined) {
        throw new TypeError(
          'PymetricsEventClient needs eventsUrl, completeUrl, sessionToken and gameSessionId'
        );
      }
      this.eventsUrl = o.eventsUrl;
      this.completeUrl = o.completeUrl;
      this.sessionToken = o.sessionToken;
      this.gameSessionId = o.gameSessionId;
      this.storageKey = STORAGE_PREFIX + o.gameSessionId;
      this.flushIntervalMs = o.flushIntervalMs === undefined ? 250 : o.flushIntervalMs;
      this.maxBatch = o.maxBatch === undefined ? 200 : o.maxBatch;
      this.backoffBaseMs = o.backoffBaseMs === undefined ? 500 : o.backoffBaseMs;
      this.backoffMaxMs = o.backoffMaxMs === undefined ? 10000 : o.backoffMaxMs;
      this.onStatus = o.onStatus || function () {};
      this.onError = o.onError || function () {};

      this._fetch = o.fetchImpl || defaultFetch();
      this._storage = o.storage || defaultStorage();
      this._now = o.now || defaultNow;
      this._random = o.random || Math.random;
      this._setTimer = o.setTimer || function (fn, ms) { return setTimeout(fn, ms); };
      this._clearTimer = o.clearTimer || function (handle) { clearTimeout(handle); };
      this.socketFailuresBeforeHttp = o.socketFailuresBeforeHttp === undefined
        ? 3
        : o.socketFailuresBeforeHttp;
      this.socketTimeoutMs = o.socketTimeoutMs === undefined ? 15000 : o.socketTimeoutMs;
      this._WebSocket = o.WebSocketImpl !== undefined ? o.WebSocketImpl : defaultWebSocket();
      this.socketUrl = resolveSocketUrl(
        o.socketUrl,
        o.location !== undefined ? o.location : (typeof location !== 'undefined' ? location : null)
      );
      this._document = o.documentTarget !== undefined
        ? o.documentTarget
        : (typeof document !== 'undefined' ? document : null);
      this._window = o.windowTarget !== undefined
        ? o.windowTarget
        : (typeof window !== 'undefined' ? window : null);

      this._buffer = [];          // events not yet acknowledged, ascending seq
      this._ackedSeq = 0;         // highest seq the server said it has stored
      this._lastT = 0;            // last t handed out (kept across reloads)
      this._t0 = null;            // now() at start(), shifted so t resumes after a reload
      this._timer = null;         // pending flush or retry
      this._timerIsRetry = false;
      this._inFlight = null;      // promise of the POST being sent
      this._failures = 0;         // consecutive failed POSTs
      this._reconnecting = false;
      this._fatal = null;         // server error that stopped sending
      this._listening = false;
      this._completed = false;
      this._waiters = [];         // complete() waiting for the buffer to drain
      this._completing = null;    // promise of a running complete()

      // 'socket' while the WebSocket is used, 'http' without one or after the fallback.
      this._transport = this.socketUrl && typeof this._WebSocket === 'function'
        ? 'socket'
        : 'http';
      this._ws = null;            // the current socket (null while down)
      this._wsReady = false;      // its hello has arrived
      this._wsFrame = null;       // {firstSeq, lastSeq, count} of the frame awaiting its ack
      this._wsDone = false;       // the server said "completed" on it
      this._wsError = null;       // last error frame, explains the close that follows
      this._wsReconnect = null;   // timer of the next connection attempt
      this._wsWatchdog = null;    // timer: the server's answer is overdue
      this._wsRetries = 0;        // unexpected closes since the last hello (backoff)
      this._wsFailedAttempts = 0; // connections in a row that closed before a hello
      this._wsRestartMs = null;   // the restarting server asked to reconnect after this
      this._frameLimit = FRAME_MAX_EVENTS; // lowered if the server says a frame is too big
      this._completion = null;    // complete() waiting for "completed"
      this._completeSent = false;

      var lastSeq = Math.max(0, (o.startSeq === undefined ? 1 : o.startSeq) - 1);
      var saved = this._load();
      if (saved) {
        this._buffer = saved.events;
        this._lastT = saved.lastT;
        lastSeq = Math.max(lastSeq, saved.lastSeq);
      }
      this._seq = lastSeq;

      this._onVisibility = this._onVisibility.bind(this);
      this._onBlur = this._onBlur.bind(this);
      this._onFocus = this._onFocus.bind(this);
      this._onPageHide = this._onPageHide.bind(this);

      if (this._buffer.length) {
        // Events left over from before a reload: send them without waiting for new ones.
        this._schedule(0);
      }
    }

    /** Highest seq handed out so far (0 before the first event). */
    get lastSeq() {
      return this._seq;
    }

    /** Events recorded but not yet acknowledged by the server (a copy). */
    get pending() {
      return this._buffer.slice();
    }

    /** 'socket' while events go over the WebSocket, else 'http'. */
    get transport() {
      return this._transport;
    }

    /**
     * Starts the clock (t = 0 now, or just after the last t before a reload),
     * listens for visibility and focus changes, which are recorded as events, and
     * opens the socket when there is one.
     */
    start() {
      if (this._t0 === null) {
        this._t0 = this._now() - this._lastT;
      }
      this._connect();
      if (!this._listening) {
        this._listening = true;
        if (this._document && this._document.addEventListener) {
          this._document.addEventListener('visibilitychange', this._onVisibility);
        }
        if (this._window && this._window.addEventListener) {
          this._window.addEventListener('blur', this._onBlur);
          this._window.addEventListener('focus', this._onFocus);
          this._window.addEventListener('pagehide', this._onPageHide);
        }
      }
      return this;
    }

    /** Stops listening for visibility and focus changes and cancels pending timers. */
    stop() {
      if (this._listening) {
        this._listening = false;
        if (this._document && this._document.removeEventListener) {
          this._document.removeEventListener('visibilitychange', this._onVisibility);
        }
        if (this._window && this._window.removeEventListener) {
          this._window.removeEventListener('blur', this._onBlur);
          this._window.removeEventListener('focus', this._onFocus);
          this._window.removeEventListener('pagehide', this._onPageHide);
        }
      }
      this._cancelTimer();
    }

    /**
     * Records one event and returns it. It is persisted at once and sent within
     * flushIntervalMs (or straight away when maxBatch events are waiting).
     *
     * `at` (optional) is when the event really happened on the performance.now()
     * clock: the requestAnimationFrame timestamp of the frame that painted a
     * stimulus, or a key event's timeStamp. Without it, t is "now". Either way t
     * never goes below the previous event's t, so the stream stays ordered.
     */
    record(type, data, at) {
      if (typeof type !== 'string' || !type) {
        throw new TypeError('event type must be a non-empty string');
      }
      if (this._completed) {
        throw new Error('this game session is already complete');
      }
      if (this._t0 === null) {
        this._t0 = this._now() - this._lastT;
      }
      var when = typeof at === 'number' && isFinite(at) ? at : this._now();
      var t = roundMs(Math.max(when - this._t0, this._lastT));
      this._seq += 1;
      this._lastT = t;
      var event = { seq: this._seq, t: t, type: type, data: data === undefined ? {} : data };
      this._buffer.push(event);
      this._save();
      if (this._buffer.length >= this.maxBatch && !this._timerIsRetry) {
        this._cancelTimer();
        this._flushNow();
      } else {
        this._schedule(this.flushIntervalMs);
      }
      return event;
    }

    /**
     * Sends one batch now (unless one is in flight, a retry is waiting, or sending
     * stopped). Over HTTP it resolves when that POST has been answered; over the
     * socket once the frame is handed to it (its ack arrives as a message later).
     */
    flush() {
      if (this._timerIsRetry) {
        return Promise.resolve();
      }
      this._cancelTimer();
      return this._flushNow();
    }

    /**
     * Sends everything still buffered (retrying as needed) without completing the
     * game, then forgets the stored buffer. For a game left midway that starts again
     * as a new session: what its page had recorded is saved with it first. Resolves
     * at once when nothing is buffered; rejects (after onError) if the server
     * refuses the events.
     */
    async settle() {
      if (this._buffer.length) {
        await this._drain();
      }
      this._finish();
    }

    /**
     * Sends everything still buffered (retrying as needed), then tells the server
     * the game is over (POST completeUrl, 202), clears storage and resolves.
     * Rejects with an HttpError (also passed to onError) if the server refuses.
     */
    complete() {
      if (!this._completing) {
        var self = this;
        this._completing = this._complete();
        // A failed attempt may be tried again by calling complete() once more.
        this._completing.catch(function () { self._completing = null; });
      }
      return this._completing;
    }

    async _complete() {
      if (this._completed) {
        return;
      }
      await this._drain();
      if (this._transport === 'socket') {
        if (await this._completeOverSocket()) {
          this._finish();
          return;
        }
        // Fell back to HTTP meanwhile: whatever is still buffered goes that way first.
        await this._drain();
      }
      for (;;) {
        var response = null;
        try {
          response = await this._fetch(this.completeUrl, {
            method: 'POST',
            headers: this._headers(),
            body: '{}',
            credentials: 'omit',
            keepalive: true,
          });
        } catch (err) {
          response = null;
        }
        if (response && response.ok) {
          break;
        }
        if (response && !this._isRetryable(response.status)) {
          var error = await this._errorFrom(response);
          this._stopFor(error);
          throw new HttpError(response.status, error);
        }
        this._failures += 1;
        this._setReconnecting(true);
        await this._sleep(this._backoffDelay(response));
      }
      this._finish();
    }

    _finish() {
      this._failures = 0;
      this._setReconnecting(false);
      this._completed = true;
      this.stop();
      this._closeSocket();
      try {
        this._storage.removeItem(this.storageKey);
      } catch (err) {
        /* nothing more to keep */
      }
    }

    // --- browser events -------------------------------------------------------

    _onVisibility() {
      var hidden = this._document && this._document.visibilityState === 'hidden';
      this.record('visibility', { state: hidden ? 'hidden' : 'visible' });
      if (hidden) {
        // The tab may be closed next: try to get the buffer out now.
        this.flush();
      }
    }

    _onBlur() {
      this.record('focus', { state: 'blur' });
    }

    _onFocus() {
      this.record('focus', { state: 'focus' });
    }

    _onPageHide() {
      if (this._transport === 'socket') {
        // The socket dies with the page; a keepalive POST outlives it (the server
        // dedupes by seq, so sending the same events both ways is harmless).
        this._beacon();
      }
      this.flush();
    }

    // --- sending --------------------------------------------------------------

    _headers() {
      return {
        'Content-Type': 'application/json',
        Accept: 'application/json',
        Authorization: 'Bearer ' + this.sessionToken,
      };
    }

    _schedule(delayMs) {
      if (this._timer !== null || this._inFlight || this._wsFrame || this._fatal ||
          this._completed) {
        return;
      }
      var self = this;
      this._timer = this._setTimer(function () {
        self._timer = null;
        self._timerIsRetry = false;
        self._flushNow();
      }, delayMs);
    }

    _cancelTimer() {
      if (this._timer !== null) {
        this._clearTimer(this._timer);
        this._timer = null;
      }
      this._timerIsRetry = false;
    }

    _flushNow() {
      if (this._transport === 'socket') {
        this._socketFlush();
        return Promise.resolve();
      }
      if (this._inFlight) {
        return this._inFlight;
      }
      if (this._fatal || this._buffer.length === 0) {
        this._notifyWaiters();
        return Promise.resolve();
      }
      var self = this;
      var batch = this._buffer.slice(0, this.maxBatch);
      this._inFlight = this._post(batch).then(
        function (outcome) {
          self._inFlight = null;
          self._afterPost(outcome);
        },
        function () {
          self._inFlight = null;
          self._afterPost({ kind: 'retry', response: null });
        }
      );
      return this._inFlight;
    }

    async _post(batch) {
      var body = JSON.stringify({ events: batch });
      var response;
      try {
        response = await this._fetch(this.eventsUrl, {
          method: 'POST',
          headers: this._headers(),
          body: body,
          // Bearer auth only: no cookies, so no CSRF or staff-session interplay.
          credentials: 'omit',
          keepalive: body.length <= KEEPALIVE_MAX_BYTES,
        });
      } catch (err) {
        return { kind: 'retry', response: null };
      }
      if (response.ok) {
        var answer;
        try {
          answer = await response.json();
        } catch (err) {
          return { kind: 'retry', response: null };
        }
        var acked = Number(answer && answer.acked_seq);
        if (!Number.isFinite(acked)) {
          return { kind: 'retry', response: null };
        }
        return { kind: 'ok', ackedSeq: acked };
      }
      if (this._isRetryable(response.status)) {
        return { kind: 'retry', response: response };
      }
      return { kind: 'fatal', error: await this._errorFrom(response) };
    }

    _afterPost(outcome) {
      if (outcome.kind === 'ok') {
        var before = this._buffer.length;
        this._ack(outcome.ackedSeq);
        if (this._buffer.length === 0) {
          this._recovered();
          this._notifyWaiters();
        } else if (this._buffer.length < before) {
          this._recovered();
          // More is waiting; if complete() is waiting too, don't pause between batches.
          var hurry = this._waiters.length > 0 || this._buffer.length >= this.maxBatch;
          this._schedule(hurry ? 0 : this.flushIntervalMs);
        } else {
          // Answered, but nothing we sent was acknowledged (the server waits for a
          // seq it does not have): re-send with backoff, not in a tight loop.
          this._failures += 1;
          this._scheduleRetry(this._backoffDelay(null));
        }
      } else if (outcome.kind === 'retry') {
        this._failures += 1;
        this._setReconnecting(true);
        this._scheduleRetry(this._backoffDelay(outcome.response));
      } else {
        this._stopFor(outcome.error);
      }
    }

    _recovered() {
      this._failures = 0;
      this._setReconnecting(false);
    }

    _scheduleRetry(delayMs) {
      this._cancelTimer();
      this._schedule(delayMs);
      this._timerIsRetry = this._timer !== null;
    }

    _ack(ackedSeq) {
      if (ackedSeq > this._ackedSeq) {
        this._ackedSeq = ackedSeq;
      }
      var acked = this._ackedSeq;
      this._buffer = this._buffer.filter(function (event) {
        return event.seq > acked;
      });
      this._save();
    }

    _isRetryable(status) {
      return status === 429 || status === 408 || status >= 500;
    }

    _backoffDelay(response, failures) {
      var attempt = Math.max(1, failures === undefined ? this._failures : failures);
      var ceiling = Math.min(this.backoffMaxMs, this.backoffBaseMs * Math.pow(2, attempt - 1));
      // "Equal jitter": at least half the ceiling, so retries never hammer the server.
      var delay = ceiling / 2 + this._random() * (ceiling / 2);
      var retryAfter = response && response.headers && typeof response.headers.get === 'function'
        ? Number(response.headers.get('Retry-After'))
        : NaN;
      if (Number.isFinite(retryAfter) && retryAfter > 0) {
        delay = Math.max(delay, retryAfter * 1000);
      }
      return Math.min(delay, this.backoffMaxMs);
    }

    _setReconnecting(reconnecting) {
      if (reconnecting !== this._reconnecting) {
        this._reconnecting = reconnecting;
        this._callSafely(this.onStatus, reconnecting ? 'reconnecting' : 'ok');
      }
    }

    async _errorFrom(response) {
      var body = null;
      try {
        body = await response.json();
      } catch (err) {
        body = null;
      }
      if (body && body.error && typeof body.error === 'object') {
        return body.error;
      }
      return {
        code: 'http_' + response.status,
        message: 'The server refused the request (HTTP ' + response.status + ').',
        details: {},
      };
    }

    _stopFor(error) {
      if (this._fatal) {
        return;
      }
      this._fatal = error;
      this._cancelTimer();
      this._closeSocket();
      this._setReconnecting(false);
      this._callSafely(this.onError, error);
      this._notifyWaiters();
      var completion = this._completion;
      this._completion = null;
      if (completion) {
        completion.reject(new HttpError(0, error));
      }
    }

    _callSafely(callback, value) {
      try {
        callback(value);
      } catch (err) {
        if (typeof console !== 'undefined') {
          console.error(err);
        }
      }
    }

    _drain() {
      var self = this;
      return new Promise(function (resolve, reject) {
        self._waiters.push({ resolve: resolve, reject: reject });
        self._notifyWaiters();
        if (self._waiters.length && !self._timerIsRetry && !self._inFlight) {
          // Don't wait for the flush interval: the game is over.
          self._cancelTimer();
          self._flushNow();
        }
      });
    }

    _notifyWaiters() {
      if (!this._waiters.length) {
        return;
      }
      var waiters;
      if (this._fatal) {
        waiters = this._waiters;
        this._waiters = [];
        var error = new HttpError(0, this._fatal);
        waiters.forEach(function (w) { w.reject(error); });
      } else if (this._buffer.length === 0 && !this._inFlight && !this._wsFrame) {
        waiters = this._waiters;
        this._waiters = [];
        waiters.forEach(function (w) { w.resolve(); });
      }
    }

    _sleep(ms) {
      var self = this;
      return new Promise(function (resolve) {
        self._setTimer(resolve, ms);
      });
    }

    // --- WebSocket transport ---------------------------------------------------

    /** Opens the socket unless one is open, a reconnect is waiting or it is over. */
    _connect() {
      if (this._transport !== 'socket' || this._ws || this._wsReconnect !== null ||
          this._fatal || this._completed) {
        return;
      }
      var self = this;
      var ws;
      try {
        ws = new this._WebSocket(this.socketUrl);
      } catch (err) {
        // Refused at once (bad URL, blocked by policy): a failed attempt like any other.
        this._socketDown(false);
        return;
      }
      this._ws = ws;
      this._wsReady = false;
      this._wsDone = false;
      this._wsError = null;
      ws.onmessage = function (event) {
        self._onSocketMessage(ws, event);
      };
      ws.onclose = function (event) {
        self._onSocketClose(ws, event);
      };
      ws.onerror = function () {
        // A close event always follows; it decides what happens next.
      };
      this._armWatchdog();
    }

    _onSocketMessage(ws, event) {
      if (ws !== this._ws) {
        return; // a socket we already gave up on
      }
      var message;
      try {
        message = JSON.parse(event.data);
      } catch (err) {
        return;
      }
      if (!message || typeof message !== 'object') {
        return;
      }
      this._disarmWatchdog();
      switch (message.type) {
        case 'hello':
          this._onHello(message);
          break;
        case 'ack':
          this._onAck(message);
          break;
        case 'error':
          this._onErrorFrame(message);
          break;
        case 'ping':
          this._socketSend({ type: 'pong' });
          break;
        case 'completed':
          this._onCompleted();
          break;
        case 'reconnect':
          this._wsRestartMs = restartDelay(message.after_ms);
          break;
        default:
          break; // pong, or something newer than this client
      }
      if (this._ws === ws && (!this._wsReady || this._wsFrame || this._completeSent)) {
        this._armWatchdog(); // still waiting for an answer, and the server is alive
      }
    }

    _onHello(message) {
      var acked = Number(message.acked_seq);
      this._wsReady = true;
      this._wsRetries = 0;
      this._wsFailedAttempts = 0;
      this._wsFrame = null;
      this._completeSent = false;
      this._failures = 0;
      if (Number.isFinite(acked) && acked >= 0) {
        if (acked > this._seq) {
          // The server has more than this page numbered (another tab?): continue after it.
          this._seq = acked;
        }
        this._ack(acked);
      }
      this._setReconnecting(false);
      // Resend what the server lacks at once, without waiting for the batch window.
      this._cancelTimer();
      this._socketFlush();
    }

    _onAck(message) {
      var acked = Number(message.acked_seq);
      var frame = this._wsFrame;
      this._wsFrame = null;
      if (Number.isFinite(acked)) {
        this._ack(acked);
      }
      if (!frame) {
        return;
      }
      if (this._buffer.length === 0) {
        this._recovered();
        this._notifyWaiters();
        this._maybeSendComplete();
      } else if (Number.isFinite(acked) && acked >= frame.firstSeq) {
        this._recovered();
        // More is waiting; if complete() is waiting too, don't pause between frames.
        var hurry = this._waiters.length > 0 || this._completion !== null ||
          this._buffer.length >= this.maxBatch;
        this._schedule(hurry ? 0 : this.flushIntervalMs);
      } else {
        // Answered, but nothing we sent was stored (the server waits for a seq it
        // does not have): send again with backoff, not in a tight loop.
        this._failures += 1;
        this._scheduleRetry(this._backoffDelay(null));
      }
    }

    _onErrorFrame(message) {
      var error = message.error && typeof message.error === 'object'
        ? message.error
        : { code: 'socket_error', message: 'The server refused the events.', details: {} };
      if (Object.prototype.hasOwnProperty.call(message, 'acked_seq')) {
        // The answer to a batch with an invalid event (or to events for a game that
        // is over): the valid ones before it are stored; the rest can never be,
        // like an HTTP 4xx.
        var acked = Number(message.acked_seq);
        if (message.acked_seq !== null && Number.isFinite(acked)) {
          this._ack(acked);
        }
        this._wsFrame = null;
        this._stopFor(error);
        return;
      }
      var frame = this._wsFrame;
      if (error.code === 'batch_too_large' && frame && frame.count > 1) {
        // Nothing was stored: send smaller frames from now on.
        this._frameLimit = Math.max(1, Math.floor(frame.count / 2));
        this._wsFrame = null;
        this._socketFlush();
        return;
      }
      // Otherwise (not authenticated, rate limited, idle ...) the server closes the
      // socket next and its close code says whether to retry; keep the reason.
      this._wsError = error;
    }

    _onCompleted() {
      this._wsDone = true;
      this._completeSent = false;
      var completion = this._completion;
      this._completion = null;
      if (completion) {
        completion.resolve(true);
      }
    }

    _onSocketClose(ws, event) {
      if (ws !== this._ws) {
        return;
      }
      var hadHello = this._wsReady;
      var done = this._wsDone;
      var error = this._wsError;
      var restartMs = this._wsRestartMs;
      this._forgetSocket();
      if (done || this._fatal || this._completed) {
        return;
      }
      var code = event && typeof event.code === 'number' ? event.code : 1006;
      if (restartMs !== null && !isFinalClose(code)) {
        this._socketRestarting(restartMs);
        return;
      }
      if (isFinalClose(code)) {
        this._stopFor(error || {
          code: 'socket_closed_' + code,
          message: 'The server closed the connection (code ' + code + ').',
          details: { close_code: code },
        });
        return;
      }
      this._socketDown(hadHello);
    }

    /**
     * The server closed the socket because it is restarting: come back after the delay
     * it chose. Another server answers then; nothing counts against the connection.
     */
    _socketRestarting(delayMs) {
      this._setReconnecting(true);
      var self = this;
      this._wsReconnect = this._setTimer(function () {
        self._wsReconnect = null;
        self._connect();
      }, delayMs);
    }

    /** The socket is gone unexpectedly: reconnect after backoff, or fall back to HTTP. */
    _socketDown(hadHello) {
      if (!hadHello) {
        this._wsFailedAttempts += 1;
        if (this.socketFailuresBeforeHttp > 0 &&
            this._wsFailedAttempts >= this.socketFailuresBeforeHttp) {
          this._fallBackToHttp();
          return;
        }
      } else {
        // Tell the candidate only once a working socket is lost; attempts that never
        // worked stay quiet (the HTTP fallback may well work).
        this._setReconnecting(true);
      }
      this._wsRetries += 1;
      var self = this;
      this._wsReconnect = this._setTimer(function () {
        self._wsReconnect = null;
        self._connect();
      }, this._backoffDelay(null, this._wsRetries));
    }

    _fallBackToHttp() {
      this._transport = 'http';
      this._closeSocket();
      this._cancelTimer();
      this._failures = 0;
      var completion = this._completion;
      this._completion = null;
      if (completion) {
        completion.resolve(false); // complete() goes on over HTTP
      }
      if (this._buffer.length) {
        this._flushNow();
      } else {
        this._notifyWaiters();
      }
    }

    /** Sends the next frame if the socket is up and none is in flight. */
    _socketFlush() {
      if (this._fatal || this._completed) {
        this._notifyWaiters();
        return;
      }
      if (!this._ws) {
        this._connect();
        return;
      }
      if (!this._wsReady || this._wsFrame || this._completeSent) {
        // (Events recorded after "complete" went out cannot be stored any more.)
        return;
      }
      if (this._buffer.length === 0) {
        this._notifyWaiters();
        this._maybeSendComplete();
        return;
      }
      // As many events as fit: maxBatch, the server's 1000 events and 1 MiB per frame.
      // (One event over 1 MiB still goes alone; the server refuses it with 4413.)
      var limit = Math.min(this.maxBatch, this._frameLimit, FRAME_MAX_EVENTS);
      var head = '{"type":"events","events":[';
      var bytes = head.length + 2;
      var pieces = [];
      for (var i = 0; i < this._buffer.length && pieces.length < limit; i++) {
        var piece = JSON.stringify(this._buffer[i]);
        var size = utf8Length(piece) + (pieces.length ? 1 : 0);
        if (pieces.length && bytes + size > FRAME_MAX_BYTES) {
          break;
        }
        bytes += size;
        pieces.push(piece);
      }
      var count = pieces.length;
      var text = head + pieces.join(',') + ']}';
      var frame = {
        firstSeq: this._buffer[0].seq,
        lastSeq: this._buffer[count - 1].seq,
        count: count,
      };
      this._wsFrame = frame;
      if (!this._socketSend(text)) {
        this._wsFrame = null;
        return;
      }
      this._armWatchdog();
    }

    _maybeSendComplete() {
      if (!this._completion || this._completeSent || !this._ws || !this._wsReady ||
          this._wsFrame || this._buffer.length) {
        return;
      }
      if (this._socketSend({ type: 'complete' })) {
        this._completeSent = true;
        this._armWatchdog();
      }
    }

    /** Resolves true on "completed", false if the page fell back to HTTP first. */
    _completeOverSocket() {
      var self = this;
      return new Promise(function (resolve, reject) {
        self._completion = { resolve: resolve, reject: reject };
        if (self._fatal) {
          self._completion = null;
          reject(new HttpError(0, self._fatal));
          return;
        }
        self._connect();
        self._maybeSendComplete();
      });
    }

    _socketSend(message) {
      var ws = this._ws;
      try {
        ws.send(typeof message === 'string' ? message : JSON.stringify(message));
        return true;
      } catch (err) {
        // Not open after all: handle it as the drop it is.
        this._onSocketClose(ws, { code: 1006 });
        try {
          ws.close();
        } catch (ignored) {
          /* already closed */
        }
        return false;
      }
    }

    _armWatchdog() {
      this._disarmWatchdog();
      if (!(this.socketTimeoutMs > 0) || !this._ws) {
        return;
      }
      var self = this;
      var ws = this._ws;
      this._wsWatchdog = this._setTimer(function () {
        self._wsWatchdog = null;
        if (ws !== self._ws) {
          return;
        }
        // No hello, ack or completed in time: the connection is dead (or half-open).
        self._onSocketClose(ws, { code: 1006 });
        try {
          ws.close();
        } catch (err) {
          /* already closed */
        }
      }, this.socketTimeoutMs);
    }

    _disarmWatchdog() {
      if (this._wsWatchdog !== null) {
        this._clearTimer(this._wsWatchdog);
        this._wsWatchdog = null;
      }
    }

    /** Drops the current socket's state (its late events are then ignored). */
    _forgetSocket() {
      this._disarmWatchdog();
      this._ws = null;
      this._wsReady = false;
      this._wsFrame = null;
      this._wsError = null;
      this._wsRestartMs = null;
      this._completeSent = false;
    }

    /** Closes the socket for good (completed, final error, HTTP fallback). */
    _closeSocket() {
      if (this._wsReconnect !== null) {
        this._clearTimer(this._wsReconnect);
        this._wsReconnect = null;
      }
      var ws = this._ws;
      this._forgetSocket();
      if (ws) {
        try {
          ws.close(1000);
        } catch (err) {
          /* already closed */
        }
      }
    }

    /** Best effort on pagehide: POST the buffer with keepalive, which outlives the page. */
    _beacon() {
      if (this._fatal || this._completed || !this._buffer.length) {
        return;
      }
      var batch = this._buffer.slice(0, this.maxBatch);
      var body = JSON.stringify({ events: batch });
      while (body.length > KEEPALIVE_MAX_BYTES && batch.length > 1) {
        batch = batch.slice(0, Math.floor(batch.length / 2));
        body = JSON.stringify({ events: batch });
      }
      if (body.length > KEEPALIVE_MAX_BYTES) {
        return;
      }
      var self = this;
      Promise.resolve()
        .then(function () {
          return self._fetch(self.eventsUrl, {
            method: 'POST',
            headers: self._headers(),
            body: body,
            credentials: 'omit',
            keepalive: true,
          });
        })
        .then(function (response) {
          return response && response.ok ? response.json() : null;
        })
        .then(function (answer) {
          var acked = Number(answer && answer.acked_seq);
          if (Number.isFinite(acked) && acked > self._ackedSeq && !self._completed) {
            self._ack(acked);
            self._notifyWaiters();
          }
        })
        .catch(function () {
          /* the socket path still has every event */
        });
    }

    // --- storage --------------------------------------------------------------

    _save() {
      try {
        this._storage.setItem(this.storageKey, JSON.stringify({
          v: STORAGE_VERSION,
          last_seq: this._seq,
          last_t: this._lastT,
          events: this._buffer,
        }));
      } catch (err) {
        // Quota exceeded or storage gone: events still live in memory and get sent.
      }
    }

    _load() {
      var raw;
      try {
        raw = this._storage.getItem(this.storageKey);
      } catch (err) {
        return null;
      }
      if (!raw) {
        return null;
      }
      try {
        var saved = JSON.parse(raw);
        var events = Array.isArray(saved.events) ? saved.events : [];
        events = events
          .filter(function (e) {
            return e && Number.isInteger(e.seq) && e.seq >= 1 && typeof e.type === 'string';
          })
          .sort(function (a, b) { return a.seq - b.seq; });
        var highest = events.length ? events[events.length - 1].seq : 0;
        var lastT = events.length ? Number(events[events.length - 1].t) || 0 : 0;
        return {
          events: events,
          lastSeq: Math.max(highest, Number.isInteger(saved.last_seq) ? saved.last_seq : 0),
          lastT: Math.max(lastT, Number(saved.last_t) || 0),
        };
      } catch (err) {
        return null;
      }
    }
  }

  PymetricsEventClient.HttpError = HttpError;
  PymetricsEventClient.STORAGE_PREFIX = STORAGE_PREFIX;

  root.PymetricsEventClient = PymetricsEventClient;
  if (typeof module !== 'undefined' && module.exports) {
    module.exports = PymetricsEventClient;
  }
})(typeof globalThis !== 'undefined' ? globalThis : this);
