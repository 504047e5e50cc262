/* 网络学习计时 (R-CE-8): the lesson page reports progress; the server decides what counts.
 *
 * - A video: a heartbeat when it starts playing, every N seconds while it plays and the page is
 *   visible (Page Visibility API), and when it pauses, ends or the page is hidden — with the media
 *   position and the playback rate. Hidden, the video pauses. Seeking past what was watched, or a rate
 *   above the cap, is put back here at once (the server would refuse it anyway).
 * - A text or a PDF: a heartbeat every N seconds while the page is visible, and when it is hidden.
 * - The server answers each beat with the next sequence number and nonce; the beats go one at a time,
 *   in order. A refusal is shown in words; "two_lessons" (another tab or device took over) stops timing.
 * - Progress (time learned, resume position) lives on the server: nothing is kept in the browser.
 *
 * No dependencies, no inline script or handlers (the Content-Security-Policy allows only 'self').
 */
(function () {
  "use strict";

  var root = document.getElementById("learning");
  if (!root || !window.fetch || !window.JSON) {
    return;
  }
  var data = root.dataset;
  var kind = data.kind;
  var beatMs = Math.max(Number(data.heartbeat) || 15, 5) * 1000;
  var maxRate = Number(data.maxRate) || 1.25;
  var tolerance = Number(data.tolerance) || 5;
  var video = kind === "video" ? root.querySelector("video") : null;
  var meter = document.getElementById("lesson-progress");
  var learnedText = document.querySelector("#lesson-time [data-learned]");
  var status = document.getElementById("learning-status");

  var state = {
    session: null, seq: null, nonce: null, busy: false, again: false, stopped: false,
    furthest: Number(data.furthest) || 0, watched: Number(data.furthest) || 0, done: data.done === "1",
  };

  function say(text, tone) {
    if (!status) {
      return;
    }
    status.textContent = text || "";
    status.className = "learning-status" + (tone ? " " + tone : "");
  }

  function clock(seconds) {
    seconds = Math.max(Math.floor(seconds || 0), 0);
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var mm = (h && m < 10 ? "0" : "") + m, ss = (s < 10 ? "0" : "") + s;
    return (h ? h + ":" : "") + mm + ":" + ss;
  }

  function visible() {
    return document.visibilityState !== "hidden";
  }

  function counting() {
    if (!visible()) {
      return false;
    }
    return video ? !video.paused && !video.ended : true;
  }

  function position() {
    return video ? Math.round((video.currentTime || 0) * 100) / 100 : 0;
  }

  function rate() {
    return video ? video.playbackRate || 1 : 1;
  }

  function show(standing) {
    if (!standing) {
      return;
    }
    state.furthest = Number(standing.furthest) || 0;
    state.watched = Math.max(state.watched, state.furthest);
    if (meter) {
      meter.max = standing.required_seconds;
      meter.value = Math.min(standing.credited_seconds, standing.required_seconds);
    }
    if (learnedText) {
      learnedText.textContent = clock(standing.credited_seconds);
    }
    if (standing.completed && !state.done) {
      state.done = true;
      say("本节已学满规定时长，已记为学完。可点击“学完本节”继续下一节。", "ok");
    }
  }

  function keep(standing) {
    if (standing && standing.session) {
      state.session = standing.session;
      state.seq = standing.seq;
      state.nonce = standing.nonce;
    }
    show(standing);
  }

  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin", keepalive: true,
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": data.csrf},
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().then(function (json) {
        return {status: response.status, body: json};
      }, function () {
        return {status: response.status, body: {}};
      });
    });
  }

  function firstMessage(body) {
    if (!body) {
      return "";
    }
    var keys = Object.keys(body);
    for (var i = 0; i < keys.length; i++) {
      var value = body[keys[i]];
      if (Array.isArray(value) && value.length && typeof value[0] === "string") {
        return value[0];
      }
      if (typeof value === "string" && keys[i] === "detail") {
        return value;
      }
    }
    return "";
  }

  function stop(text) {
    state.stopped = true;
    window.clearInterval(timer);
    if (video && !video.paused) {
      video.pause();
    }
    say(text, "error");
  }

  function refused(body) {
    if (body.code === "two_lessons" || !body.progress) {
      stop(firstMessage(body));
      return;
    }
    keep(body.progress); // the session stays valid: the server says where it stands and what comes next
    say(firstMessage(body), "error");
    if (video && body.code === "seek_ahead") {
      video.currentTime = Number(body.progress.furthest) || 0;
    }
    if (video && body.code === "too_fast") {
      video.playbackRate = Math.min(video.playbackRate, maxRate);
    }
  }

  function answered(result) {
    state.busy = false;
    if (result.status === 200) {
      keep(result.body);
      if (status && status.className.indexOf("warn") !== -1) {
        say("");
      }
    } else if (result.status === 409) {
      refused(result.body);
    } else if (result.status === 401 || result.status === 403) {
      stop(firstMessage(result.body) || "登录已失效，请重新登录后继续学习。");
    } else {
      say(firstMessage(result.body) || "学习进度暂未保存，稍后自动重试。", "warn");
    }
    if (state.again && !state.stopped) {
      state.again = false;
      beat();
    }
  }

  function failed() {
    state.busy = false;
    say("网络连接中断，学习进度暂未保存，恢复后自动继续。", "warn");
  }

  // One request at a time: a beat asked for while one is on its way is sent when it comes back.
  function beat() {
    if (state.stopped) {
      return;
    }
    if (state.busy) {
      state.again = true;
      return;
    }
    state.busy = true;
    if (!state.session) {
      post(data.sessionUrl, {playing: counting()}).then(answered, failed);
      return;
    }
    post(data.beatUrl, {
      session: state.session, seq: state.seq, nonce: state.nonce,
      position: position(), rate: rate(), playing: counting(),
    }).then(answered, failed);
  }

  var timer = window.setInterval(function () {
    if (counting()) {
      beat();
    }
  }, beatMs);

  document.addEventListener("visibilitychange", function () {
    if (!visible() && video && !video.paused) {
      video.pause(); // fires "pause", which reports
      return;
    }
    if (state.session || counting()) {
      beat();
    }
  });

  if (video) {
    video.addEventListener("loadedmetadata", function () {
      var resume = Math.min(Number(data.position) || 0, state.furthest);
      if (resume > 1 && resume < (video.duration || 0) - 1) {
        video.currentTime = resume;
        say("已从上次观看的位置 " + clock(resume) + " 继续。");
      }
    });
    video.addEventListener("play", beat);
    video.addEventListener("pause", beat);
    video.addEventListener("ended", beat);
    video.addEventListener("timeupdate", function () {
      var now = video.currentTime || 0;
      if (!video.seeking && now <= state.watched + tolerance) {
        state.watched = Math.max(state.watched, now);
      }
    });
    video.addEventListener("seeking", function () {
      if (video.currentTime > state.watched + tolerance) {
        video.currentTime = state.watched;
        say("不能跳过未观看的内容，已回到已观看到的位置 " + clock(state.watched) + "。", "warn");
      }
    });
    video.addEventListener("ratechange", function () {
      if (video.playbackRate > maxRate) {
        video.playbackRate = maxRate;
        say("最高按 " + maxRate + " 倍速播放计时。", "warn");
      }
    });
  } else if (visible()) {
    beat(); // a text or a PDF: reading starts when the page is shown
  }
})();
