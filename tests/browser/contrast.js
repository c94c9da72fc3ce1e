// Return every visible text element whose contrast with its background is below WCAG AA:
// 4.5:1, or 3:1 for large text (24 px, or 18.66 px bold).
() => {
  const rgba = (css) => css.match(/[\d.]+/g).map(Number).concat([1]).slice(0, 4);
  const channel = (c) => {
    const v = c / 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  };
  const luminance = ([r, g, b]) => 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b);
  const background = (node) => {
    for (let at = node; at; at = at.parentElement) {
      const colour = rgba(getComputedStyle(at).backgroundColor);
      if (colour[3] > 0) {
        return colour;
      }
    }
    return [255, 255, 255, 1];
  };
  const failures = [];
  for (const node of document.querySelectorAll("body *")) {
    const ownText = Array.from(node.childNodes).some(
      (child) => child.nodeType === Node.TEXT_NODE && child.textContent.trim()
    );
    if (!ownText || !node.getClientRects().length) {
      continue;
    }
    const style = getComputedStyle(node);
    const lighter = Math.max(luminance(rgba(style.color)), luminance(background(node)));
    const darker = Math.min(luminance(rgba(style.color)), luminance(background(node)));
    const ratio = (lighter + 0.05) / (darker + 0.05);
    const size = parseFloat(style.fontSize);
    const large = size >= 24 || (size >= 18.66 && Number(style.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) {
      failures.push(`${node.tagName}.${node.className} "${node.textContent.trim()}" ${ratio.toFixed(2)}`);
    }
  }
  return failures;
}
