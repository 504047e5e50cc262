/* Scans on the reviewer's pages: zoom and rotate each image.
 *
 * Progressive enhancement of templates/records/workbench/_attachments.html: without this script every
 * scan is a large image that opens at full size in a new tab. With it, each [data-scan] block gets a
 * toolbar — 放大, 缩小, 向左旋转, 向右旋转, 还原 — and the image is drawn at that zoom and angle inside a
 * scrolling frame, so a reviewer reads a small ID card or turns a sideways diploma without leaving the page.
 *
 * ES5, no dependencies, no inline script or style attributes (the Content-Security-Policy allows only
 * 'self'; styles are set through the CSSOM, which it permits). Safe to load more than once on a page.
 */
(function () {
  "use strict";

  var STEPS = [0.5, 0.75, 1, 1.5, 2, 3, 4];
  var BUTTONS = [
    ["zoom-in", "放大", "+"], ["zoom-out", "缩小", "−"], ["rotate-left", "向左旋转", "⟲"],
    ["rotate-right", "向右旋转", "⟳"], ["reset", "还原", "1:1"]
  ];

  function setTransform(element, value) {
    element.style.transform = value;
    element.style.webkitTransform = value;
    element.style.msTransform = value;
  }

  function Scan(block) {
    this.block = block;
    this.link = block.querySelector(".scan-open");
    this.image = block.querySelector("img");
    this.step = STEPS.indexOf(1);
    this.angle = 0;
    this.frame = document.createElement("div");
    this.frame.className = "scan-frame";
    this.stage = document.createElement("div");
    this.stage.className = "scan-stage";
    this.block.insertBefore(this.toolbar(), this.block.firstChild);
    this.link.parentNode.insertBefore(this.frame, this.link);
    this.frame.appendChild(this.stage);
    this.stage.appendChild(this.link);
    this.status = document.createElement("span");
    this.status.className = "scan-zoom visually-hidden";
    this.status.setAttribute("aria-live", "polite");
    this.block.appendChild(this.status);
    block.className += " is-enhanced";
    var self = this;
    if (this.image.complete && this.image.naturalWidth) {
      this.draw();
    } else {
      this.image.addEventListener("load", function () { self.draw(); });
    }
    window.addEventListener("resize", function () { self.draw(); });
  }

  Scan.prototype.toolbar = function () {
    var bar = document.createElement("div"), self = this;
    bar.className = "scan-tools";
    bar.setAttribute("role", "toolbar");
    bar.setAttribute("aria-label", "查看扫描件：" + (this.image.getAttribute("alt") || ""));
    BUTTONS.forEach(function (spec) {
      var button = document.createElement("button");
      button.type = "button";
      button.className = "scan-tool scan-" + spec[0];
      button.setAttribute("data-action", spec[0]);
      button.setAttribute("aria-label", spec[1]);
      button.title = spec[1];
      button.appendChild(document.createTextNode(spec[2] + " " + spec[1]));
      button.addEventListener("click", function () { self.act(spec[0]); });
      bar.appendChild(button);
    });
    return bar;
  };

  Scan.prototype.act = function (action) {
    if (action === "zoom-in") { this.step = Math.min(this.step + 1, STEPS.length - 1); }
    if (action === "zoom-out") { this.step = Math.max(this.step - 1, 0); }
    if (action === "rotate-left") { this.angle = (this.angle + 270) % 360; }
    if (action === "rotate-right") { this.angle = (this.angle + 90) % 360; }
    if (action === "reset") { this.step = STEPS.indexOf(1); this.angle = 0; }
    this.draw();
    this.status.textContent = "缩放 " + Math.round(STEPS[this.step] * 100) + "%，旋转 " + this.angle + "°";
  };

  // Zoom 1 fits the frame's width, whatever the angle; the stage takes the rotated box so the frame scrolls.
  Scan.prototype.draw = function () {
    var natural = { w: this.image.naturalWidth, h: this.image.naturalHeight };
    var width = this.frame.clientWidth;
    if (!natural.w || !natural.h || !width) { return; }
    var sideways = this.angle === 90 || this.angle === 270;
    var fit = Math.min(width, sideways ? natural.h * 2 : natural.w * 2) * STEPS[this.step];
    var shownW = sideways ? fit * natural.w / natural.h : fit;
    var shownH = shownW * natural.h / natural.w;
    var boxW = sideways ? shownH : shownW, boxH = sideways ? shownW : shownH;
    this.stage.style.width = boxW + "px";
    this.stage.style.height = boxH + "px";
    this.image.style.width = shownW + "px";
    this.image.style.height = shownH + "px";
    this.image.style.maxWidth = "none";
    this.image.style.maxHeight = "none";
    var moves = { 0: "", 90: "translateX(" + shownH + "px) ", 180: "translate(" + shownW + "px," + shownH + "px) ",
                  270: "translateY(" + shownW + "px) " };
    setTransform(this.image, this.angle ? moves[this.angle] + "rotate(" + this.angle + "deg)" : "none");
    this.block.className = this.block.className.replace(/ is-(zoomed|rotated)/g, "") +
      (STEPS[this.step] > 1 ? " is-zoomed" : "") + (this.angle ? " is-rotated" : "");
  };

  function start() {
    var blocks = document.querySelectorAll("[data-scan]");
    for (var i = 0; i < blocks.length; i++) {
      if (blocks[i].getAttribute("data-scan-ready")) { continue; }
      blocks[i].setAttribute("data-scan-ready", "1");
      if (blocks[i].querySelector("img") && blocks[i].querySelector(".scan-open")) { new Scan(blocks[i]); }
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
