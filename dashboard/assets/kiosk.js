/* Stadtpuls lobby screen (/kiosk/<screen>): one fetch loop, text replaced in place.
 *
 * Built to run for weeks unattended:
 * - exactly one timer and at most one request at a time: the next poll is scheduled only
 *   after the previous one finished or was aborted (AbortController), so a slow server
 *   never piles up requests;
 * - the server decides the scene from its clock; this script only shows what it is told
 *   and polls again at the next scene change (or every poll period);
 * - the DOM does not grow: tile elements come from a pool that only grows to the largest
 *   scene seen (at most 8 tiles), and text is replaced only where it changed;
 * - network loss or a server restart: the last good scene stays, labelled "reconnecting",
 *   and polling continues with backoff; no reload is needed to recover;
 * - it reloads itself when the app version in an answer changes, and once a night, but only
 *   after checking that the page itself loads (a failed reload would leave an error page).
 */
(function () {
  'use strict';
  var root = document.getElementById('kiosk');
  if (!root) { return; }
  var screenVersion = root.getAttribute('data-version');
  var lang = root.getAttribute('data-lang');
  var api = root.getAttribute('data-api');
  var pollMs = Number(root.getAttribute('data-poll-ms')) || 5000;
  var TIMEOUT_MS = Math.max(4000, pollMs * 2);
  var MAX_BACKOFF_MS = 30000;
  var OFFLINE_AFTER = 2; // failed polls in a row before the overlay shows

  var title = document.getElementById('k-title');
  var place = document.getElementById('k-site');
  var hero = document.getElementById('k-hero');
  var tiles = document.getElementById('k-tiles');
  var foot = document.getElementById('k-foot');
  var offline = document.getElementById('k-offline');
  var pool = [];
  var failures = 0;
  var inFlight = 0;
  var maxInFlight = 0;
  var polls = 0;
  var shownType = '';
  var reloadAt = nextNightlyReload(new Date());

  function nextNightlyReload(now) {
    var at = new Date(now.getTime());
    at.setHours(3, Math.floor(Math.random() * 30), 0, 0);
    if (at <= now) { at.setDate(at.getDate() + 1); }
    return at.getTime();
  }

  function setText(el, text) {
    text = text || '';
    if (el.textContent !== text) { el.textContent = text; }
  }

  function part(el, cls) { return el.querySelector('.' + cls); }

  function newTile() {
    var el = document.createElement('section');
    el.className = 'k-tile';
    el.innerHTML = '<p class="k-label"></p><p class="k-value"><span class="k-number">' +
      '</span> <span class="k-unit"></span></p><p class="k-note"></p><p class="k-stamp"></p>';
    return el;
  }

  function fill(el, tile) {
    setText(part(el, 'k-label'), tile.label);
    setText(part(el, 'k-number'), tile.value);
    setText(part(el, 'k-unit'), tile.unit);
    setText(part(el, 'k-note'), tile.note);
    setText(part(el, 'k-stamp'), tile.stamp);
    el.classList.toggle('is-delayed', !!tile.delayed);
    if (el.getAttribute('data-tone') !== (tile.tone || '')) {
      el.setAttribute('data-tone', tile.tone || '');
    }
  }

  function render(answer) {
    var scene = answer.scene;
    if (scene.type !== shownType) {
      root.classList.remove('k-enter');
      void root.offsetWidth; // restart the fade-in (skipped under prefers-reduced-motion)
      root.classList.add('k-enter');
    }
    setText(title, scene.title);
    setText(place, scene.place);
    if (scene.hero) { fill(hero, scene.hero); }
    hero.hidden = !scene.hero;
    while (pool.length < scene.tiles.length) {
      var el = newTile();
      pool.push(el);
      tiles.appendChild(el);
    }
    for (var i = 0; i < pool.length; i++) {
      if (i < scene.tiles.length) { fill(pool[i], scene.tiles[i]); }
      pool[i].hidden = i >= scene.tiles.length;
    }
    tiles.setAttribute('data-count', String(scene.tiles.length));
    root.setAttribute('data-tiles', String(scene.tiles.length));
    root.setAttribute('data-hero', scene.hero ? '1' : '0');
    setText(foot, scene.footnote);
    shownType = scene.type;
    root.setAttribute('data-scene', scene.type);
    root.setAttribute('data-position', String(answer.position));
    document.body.classList.toggle('is-dim', !!answer.dim);
  }

  function setOffline(on) {
    if (offline.hidden === on) { offline.hidden = !on; }
    root.classList.toggle('is-offline', on);
  }

  function backoffMs() {
    var base = Math.min(MAX_BACKOFF_MS, pollMs * Math.pow(2, Math.min(failures - 1, 6)));
    return base * (0.75 + Math.random() * 0.5);
  }

  function schedule(ms) {
    root.setAttribute('data-polls', String(polls));
    root.setAttribute('data-max-in-flight', String(maxInFlight));
    setTimeout(poll, Math.max(200, ms));
  }

  function safeReload() {
    // Reload only if the page answers now; otherwise keep showing and try later.
    fetch(location.href, {cache: 'no-store'}).then(function (r) {
      if (r.ok) { location.reload(); }
    }, function () { /* still away: the loop carries on */ });
  }

  function poll() {
    var controller = new AbortController();
    var timer = setTimeout(function () { controller.abort(); }, TIMEOUT_MS);
    var url = api + '?lang=' + encodeURIComponent(lang) + '&v=' +
      encodeURIComponent(screenVersion) + '&scene=' + encodeURIComponent(shownType);
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    polls += 1;
    fetch(url, {cache: 'no-store', signal: controller.signal})
      .then(function (response) {
        if (!response.ok) { throw new Error('HTTP ' + response.status); }
        return response.json();
      })
      .then(function (answer) {
        failures = 0;
        setOffline(false);
        render(answer);
        if ((answer.version && answer.version !== screenVersion) || Date.now() >= reloadAt) {
          reloadAt = nextNightlyReload(new Date());
          safeReload();
        }
        return Math.min(pollMs, answer.next_in_s * 1000 + 100);
      })
      .catch(function () {
        failures += 1;
        if (failures >= OFFLINE_AFTER) { setOffline(true); }
        return backoffMs();
      })
      .then(function (wait) {
        clearTimeout(timer);
        // The browser keeps a timing entry per request (up to its buffer's size); a screen
        // polling for weeks needs none of them.
        if (window.performance && performance.clearResourceTimings) {
          performance.clearResourceTimings();
        }
        inFlight -= 1;
        schedule(wait);
      });
  }

  poll();
}());
