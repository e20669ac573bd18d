/*
 * A staff page's live socket: kept open for as long as the page is, the way the
 * server expects it to be used (docs/api.md, "Staff sockets").
 *
 * - The server's {"type": "ping"} is answered with {"type": "pong"} here; every other
 *   message goes to onMessage(message).
 * - A socket that closes is opened again after a wait that doubles from 1 s to 30 s,
 *   with up to 500 ms of jitter, so a restarted server is not met by every page at
 *   once.
 * - {"type": "reconnect", "after_ms": n} (a socket server that is stopping, for a
 *   deploy or a scale-down, sends it just before its close 1012) sets the next wait
 *   to n instead: the server has already spread its clients out.
 * - Close 4401 (not logged in, or the second factor is missing) and 4403 (not
 *   allowed) stop the socket for good: opening it again cannot help.
 *
 * PmLiveSocket.keepOpen({url, onMessage, onState}) opens one; onState(state) hears
 * 'connecting', 'open', 'reconnecting' and 'stopped', and onOpen(again) each opening
 * (again is true after a reconnect: notices sent meanwhile were missed). For tests,
 * WebSocket, setTimeout and random replace the browser's.
 */
(function (root, factory) {
  var api = factory(root);
  if (typeof module === 'object' && module.exports) {
    module.exports = api;
  } else {
    root.PmLiveSocket = api;
  }
})(typeof window !== 'undefined' ? window : this, function (global) {
  'use strict';

  var BACKOFF_START_MS = 1000;
  var BACKOFF_MAX_MS = 30000;
  var JITTER_MS = 500;
  var CLOSE_UNAUTHENTICATED = 4401;
  var CLOSE_FORBIDDEN = 4403;

  function socketUrl(path) {
    var scheme = global.location.protocol === 'https:' ? 'wss://' : 'ws://';
    return scheme + global.location.host + path;
  }

  function keepOpen(options) {
    var SocketImpl = options.WebSocket || global.WebSocket;
    var setTimer = options.setTimeout || global.setTimeout.bind(global);
    var random = options.random || Math.random;
    var onMessage = options.onMessage || function () {};
    var onState = options.onState || function () {};
    var onOpen = options.onOpen || function () {};
    var state = { backoff: BACKOFF_START_MS, hintMs: null, opened: false, stopped: false, socket: null };

    function nextWait() {
      if (state.hintMs !== null) {
        var hinted = state.hintMs;
        state.hintMs = null;
        return hinted;
      }
      var wait = state.backoff + Math.floor(random() * JITTER_MS);
      state.backoff = Math.min(state.backoff * 2, BACKOFF_MAX_MS);
      return wait;
    }

    function open() {
      if (state.stopped) {
        return;
      }
      onState(state.opened ? 'reconnecting' : 'connecting');
      var socket = new SocketImpl(options.url);
      state.socket = socket;
      socket.onopen = function () {
        state.backoff = BACKOFF_START_MS;
        onState('open');
        onOpen(state.opened);
        state.opened = true;
      };
      socket.onmessage = function (event) {
        var message;
        try {
          message = JSON.parse(event.data);
        } catch (error) {
          return;
        }
        if (message.type === 'ping') {
          socket.send(JSON.stringify({ type: 'pong' }));
        } else if (message.type === 'reconnect') {
          var after = Number(message.after_ms);
          state.hintMs = after >= 0 && after <= BACKOFF_MAX_MS ? Math.floor(after) : null;
        } else {
          onMessage(message);
        }
      };
      socket.onclose = function (event) {
        if (event.code === CLOSE_UNAUTHENTICATED || event.code === CLOSE_FORBIDDEN) {
          state.stopped = true;
          onState('stopped');
          return;
        }
        onState(state.opened ? 'reconnecting' : 'connecting');
        setTimer(open, nextWait());
      };
    }

    open();
    return {
      stopped: function () {
        return state.stopped;
      },
      socket: function () {
        return state.socket;
      },
    };
  }

  return { keepOpen: keepOpen, socketUrl: socketUrl, BACKOFF_START_MS: BACKOFF_START_MS, BACKOFF_MAX_MS: BACKOFF_MAX_MS };
});
