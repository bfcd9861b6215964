// SPDX-License-Identifier: MIT
// The page's calls to the service's JSON API (docs/service.md). A refusal becomes an Error whose
// message is the service's own "error" text, so the page can show the person what to change.

async function answer(response) {
  let body = null;
  try {
    body = await response.json();
  } catch {
    // A body that is not JSON: only the status is known.
  }
  if (!response.ok) {
    const why = body && body.error ? body.error : `HTTP ${response.status}`;
    throw new Error(why);
  }
  return body;
}

export async function getJson(path) {
  return answer(await fetch(path, { headers: { Accept: 'application/json' } }));
}

// One scene from one sentence: the JSON `gasm_gpu run --text` prints.
export async function placeText(text) {
  const response = await fetch('/process', {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify({ text }),
  });
  return answer(response);
}
