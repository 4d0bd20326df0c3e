// The console's few scripts: a bundle uploaded in resumable chunks, and an operation followed live.
(function () {
  'use strict';
  var CHUNK = 8 * 1024 * 1024;

  function post(url, csrf, fields) {
    var body = new URLSearchParams(fields);
    return fetch(url, {method: 'POST', headers: {'X-Airlock-CSRF': csrf}, body: body}).then(answer);
  }

  function answer(r) {
    return r.json().catch(function () { return {}; }).then(function (j) {
      if (!r.ok && r.status !== 409) {
        throw new Error((j.error || ('HTTP ' + r.status)) + (j.fix ? ' — ' + j.fix : ''));
      }
      return j;
    });
  }

  function sendChunk(url, csrf, blob, onProgress) {
    return new Promise(function (resolve, reject) {
      var x = new XMLHttpRequest();
      x.open('PUT', url);
      x.setRequestHeader('X-Airlock-CSRF', csrf);
      x.setRequestHeader('Content-Type', 'application/octet-stream');
      x.upload.onprogress = function (e) { onProgress(e.loaded); };
      x.onload = function () {
        var j = {};
        try { j = JSON.parse(x.responseText); } catch (e) { /* not JSON */ }
        if (x.status === 200 || x.status === 409) { resolve(j); } else {
          reject(new Error((j.error || ('HTTP ' + x.status)) + (j.fix ? ' — ' + j.fix : '')));
        }
      };
      x.onerror = function () { reject(new Error('the connection dropped')); };
      x.send(blob);
    });
  }

  function upload(form) {
    var file = form.querySelector('input[type=file]').files[0];
    if (!file) { return; }
    var csrf = form.dataset.csrf;
    var bar = document.getElementById('upload-bar');
    var status = document.getElementById('upload-status');
    document.getElementById('upload-progress').classList.remove('hidden');
    form.querySelector('button').disabled = true;
    var say = function (text) { status.textContent = text; };
    var failures = 0;
    post(form.dataset.upload, csrf, {name: file.name, size: file.size, modified: file.lastModified})
      .then(function step(u) {
        bar.value = u.size ? Math.floor(u.offset * 100 / u.size) : 100;
        if (u.complete) {
          say('Uploaded. Verifying the bundle and running the checks…');
          window.location.assign(u.review);
          return null;
        }
        if (u.offset > 0 && !form.dataset.resumed) {
          // Bytes the server already had from an earlier, interrupted upload of this file.
          form.dataset.resumed = 'yes';
          document.getElementById('upload-resumed').textContent = 'Resumed at ' + u.offset + ' bytes (already on '
            + 'the server).';
        }
        var end = Math.min(u.offset + CHUNK, u.size);
        return sendChunk(form.dataset.upload + '/' + u.id + '?offset=' + u.offset, csrf, file.slice(u.offset, end),
          function (loaded) {
            bar.value = Math.floor((u.offset + loaded) * 100 / u.size);
            say('Uploading ' + file.name + ': ' + bar.value + '%');
          }).then(function (next) {
            failures = 0;
            next.review = u.review;
            next.size = next.size || u.size;
            next.id = next.id || u.id;
            return step(next);
          }, function (err) {
            failures++;
            if (failures > 5) { throw err; }
            say('Upload interrupted (' + err.message + '); retrying…');
            return new Promise(function (r) { setTimeout(r, 1000 * failures); }).then(function () {
              return post(form.dataset.upload, csrf, {name: file.name, size: file.size, modified: file.lastModified});
            }).then(step);
          });
      }).catch(function (err) {
        say('Upload failed: ' + err.message + '. Choose the file again to resume.');
        form.querySelector('button').disabled = false;
      });
  }

  var live = null;

  function follow(root) {
    var el = root.querySelector ? root.querySelector('[data-events]') : null;
    if (live) { live.close(); live = null; }
    if (!el || typeof EventSource === 'undefined') { return; }
    var source = new EventSource(el.dataset.events);
    live = source;
    var log = document.getElementById('op-log');
    source.addEventListener('steps', function (e) { document.getElementById('op-steps').innerHTML = e.data; });
    source.addEventListener('log', function (e) {
      if (log) { log.insertAdjacentHTML('beforeend', e.data + '\n'); log.scrollTop = log.scrollHeight; }
    });
    source.addEventListener('done', function (e) {
      document.getElementById('op-result').innerHTML = e.data;
      el.removeAttribute('data-events');
      source.close();
    });
    source.onerror = function () { /* EventSource reconnects by itself */ };
  }

  document.addEventListener('submit', function (e) {
    if (e.target.dataset && e.target.dataset.upload) {
      e.preventDefault();
      upload(e.target);
    }
  });
  document.addEventListener('DOMContentLoaded', function () { follow(document); });
  // A boosted link swaps the page's body: follow what the new page shows (and stop following the old one).
  document.addEventListener('htmx:afterSettle', function () { follow(document); });
}());
