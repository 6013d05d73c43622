// cab site: plays the cell's terminal recording, embedded in the page (works from file://).
// The player's state is mirrored on its element (data-state: loading, ready, playing, ended, error).
(function () {
  "use strict";
  var el = document.getElementById("cab-player");
  var data = document.getElementById("cab-cast");
  if (!el || !data || typeof AsciinemaPlayer === "undefined") return;
  try {
    var cast = JSON.parse(data.textContent);
    var player = AsciinemaPlayer.create({ data: cast }, el, { fit: "width", idleTimeLimit: 2, preload: true });
    el.cabPlayer = player;
    el.setAttribute("data-state", "ready");
    player.addEventListener("play", function () { el.setAttribute("data-state", "playing"); });
    player.addEventListener("ended", function () { el.setAttribute("data-state", "ended"); });
  } catch (err) {
    el.setAttribute("data-state", "error");
    el.textContent = "The recording could not be played: " + err;
  }
})();
