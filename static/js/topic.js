/* The topic page: links from before long debates had pages (``/emner/7#p42``) find their
 * post. When the address names a post (#p<id>) that is not on this page, ask the server
 * which page shows it (forum.post_in_topic, which applies the viewer's visibility) and go
 * there. Without JavaScript such an old link opens the first page.
 */
(() => {
  "use strict";

  const debate = document.querySelector(".debate[data-locate-url]");
  const match = /^#p(\d+)$/.exec(window.location.hash);
  if (!debate || !match || document.getElementById("p" + match[1])) return;
  if (Number(debate.dataset.pages) <= 1) return; // one page: the post is not in this debate
  // Once per post and tab: should the thread change under the redirect, no loop.
  const key = "borgerdialog.located." + match[1];
  try {
    if (window.sessionStorage.getItem(key)) return;
    window.sessionStorage.setItem(key, "1");
  } catch (err) {
    return; // no storage (private mode, blocked): no guard, so no redirect either
  }
  const url = new URL(debate.dataset.locateUrl.replace("/0/", "/" + match[1] + "/"), window.location.href);
  const here = new URLSearchParams(window.location.search);
  for (const name of ["sort", "holdning"]) {
    if (here.get(name)) url.searchParams.set(name, here.get(name));
  }
  window.location.replace(url.toString());
})();
