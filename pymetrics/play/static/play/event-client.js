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
 * Plain script (no bundler): defines the global `PymetricsEventClient`, and
 * `module.exports` under node so js-tests/ can load it.
 */
(function (root) {
  'use strict';

  var STORAGE_PREFIX = 'pymetrics:events:';
  var STORAGE_VERSION = 1;
  // Browsers refuse keepalive requests whose pending bodies exceed 64 KiB in total.
  var KEEPALIVE_MAX_BYTES = 60000;

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

    /**
     * Starts the clock (t = 0 now, or just after the last t before a reload) and
     * listens for visibility and focus changes, which are recorded as events.
     */
    start() {
      if (this._t0 === null) {
        this._t0 = this._now() - this._lastT;
      }
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
     * stopped). Resolves when that POST has been answered.
     */
    flush() {
      if (this._timerIsRetry) {
        return Promise.resolve();
      }
      this._cancelTimer();
      return this._flushNow();
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
      this._failures = 0;
      this._setReconnecting(false);
      this._completed = true;
      this.stop();
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
      if (this._timer !== null || this._inFlight || this._fatal || this._completed) {
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

    _backoffDelay(response) {
      var attempt = Math.max(1, this._failures);
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
      this._setReconnecting(false);
      this._callSafely(this.onError, error);
      this._notifyWaiters();
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
      } else if (this._buffer.length === 0 && !this._inFlight) {
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
