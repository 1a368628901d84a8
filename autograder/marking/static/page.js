// The marking page: one answer at a time; keys 1-9 toggle rubric items, j/k move, every change is posted at once.
"use strict";
const data = JSON.parse(document.getElementById("data").textContent);
const xsrf = document.getElementById("xsrf").value;
const $ = (id) => document.getElementById(id);
let index = Math.max(0, data.answers.findIndex((a) => a.state !== "graded"));
let showNames = data.showNames;

let queue = Promise.resolve();  // posts go one after another, so that the last change is the one stored

function post(url, body) {
  const sent = queue.then(() => fetch(url, {method: "POST", body: JSON.stringify(body),
                                            headers: {"Content-Type": "application/json", "X-XSRFToken": xsrf}}))
    .then((r) => {
      if (!r.ok) throw new Error(r.status + " " + r.statusText);
      return r.json();
    });
  queue = sent.catch(() => undefined);
  return sent;
}

function render() {
  const a = data.answers[index];
  const graded = data.answers.filter((x) => x.state === "graded").length;
  $("progress").textContent = graded + " of " + data.answers.length + " graded";
  if (!a) { $("text").textContent = "No answers to this question yet."; return; }
  $("position").textContent = "answer " + (index + 1) + " of " + data.answers.length;
  $("who").textContent = showNames ? a.student : "answer " + (index + 1) + " (name hidden)";
  $("who").className = showNames ? "" : "hidden-name";
  $("names").textContent = (showNames ? "hide" : "show") + " names (n)";
  $("flag").className = a.state === "changed" ? "changed" : "";
  $("flag").textContent = a.state === "changed" ? "Needs grading again: the answer changed since it was marked." : "";
  $("text").innerHTML = a.html + '<p class="note">' + a.words + " words" +
    (a.alike > 1 ? ", word-for-word alike with " + (a.alike - 1) + " other answer(s) (a: give them this mark)" : "") +
    "</p>";
  $("score").textContent = a.state === "graded" ? a.score + " / " + data.points : "pending / " + data.points;
  $("score").className = a.state === "graded" ? "graded" : "pending";
  const list = $("items");
  list.textContent = "";
  data.items.forEach((item, n) => {
    const li = document.createElement("li");
    li.className = a.items.includes(item.id) ? "on" : "";
    li.dataset.item = item.id;
    const key = document.createElement("kbd");
    key.textContent = n < 9 ? String(n + 1) : "";
    const points = document.createElement("input");
    points.type = "number"; points.step = "0.25"; points.value = item.points; points.title = "points (edit to re-score)";
    points.addEventListener("click", (e) => e.stopPropagation());
    points.addEventListener("change", () => setPoints(item, parseFloat(points.value)));
    const text = document.createElement("span");
    text.textContent = item.text;
    li.append(key, points, text);
    li.addEventListener("click", () => toggle(n));
    list.append(li);
  });
  if (document.activeElement !== $("comment")) $("comment").value = a.comment;
}

function save(a = data.answers[index]) {
  $("saved").textContent = "saving...";
  return post("/api/mark", {student: a.student, assignment: data.assignment, question: data.question,
                            answer: a.answer, items: a.items, comment: a.comment}).then((r) => {
    Object.assign(a, r);
    $("saved").textContent = "saved";
    render();
  }).catch((e) => { $("saved").textContent = "NOT saved: " + e.message; });
}

function toggle(n) {
  const a = data.answers[index], item = data.items[n];
  if (!a || !item) return;
  a.items = a.items.includes(item.id) ? a.items.filter((i) => i !== item.id) : [...a.items, item.id];
  render();
  save();
}

function setPoints(item, points) {
  if (Number.isNaN(points)) return;
  post("/api/points", {assignment: data.assignment, question: data.question, item: item.id, points: points})
    .then((r) => {
      item.points = points;
      data.answers.forEach((a) => { a.score = r.scores[a.student]; });
      $("saved").textContent = "re-scored every answer marked with it";
      render();
    }).catch((e) => { $("saved").textContent = "NOT saved: " + e.message; });
}

function applyToAlike() {
  // the same mark for the word-for-word alike answers that have none yet: never over another mark
  const a = data.answers[index];
  if (!a || a.state !== "graded") return;
  data.answers.filter((x) => x.alikeId === a.alikeId && x.state === "pending").forEach((x) => {
    x.items = [...a.items];
    x.comment = a.comment;
    save(x);
  });
}

function move(step) {
  const next = index + step;
  if (next >= 0 && next < data.answers.length) { index = next; render(); }
}

$("comment").addEventListener("change", () => {
  data.answers[index].comment = $("comment").value;
  save();
});
$("names").addEventListener("click", () => { showNames = !showNames; render(); });
document.addEventListener("keydown", (e) => {
  if (e.target.matches("textarea, input")) {
    if (e.key === "Escape") e.target.blur();
    return;
  }
  if (e.ctrlKey || e.metaKey || e.altKey) return;
  if (/^[1-9]$/.test(e.key)) toggle(Number(e.key) - 1);
  else if (e.key === "0") save();
  else if (e.key === "a") applyToAlike();
  else if (e.key === "j" || e.key === "ArrowRight") move(1);
  else if (e.key === "k" || e.key === "ArrowLeft") move(-1);
  else if (e.key === "u") {
    const next = data.answers.findIndex((a, i) => i > index && a.state !== "graded");
    if (next >= 0) { index = next; render(); }
  } else if (e.key === "n") { showNames = !showNames; render(); }
  else if (e.key === "c") { $("comment").focus(); }
  else return;
  e.preventDefault();
});
render();
