//! "Did you mean" suggestions for a misspelt name.

/// "; did you mean `x`?" when a known name is one or two edits away.
pub(super) fn suggest<'a, S: AsRef<str> + 'a>(
    name: &str,
    known: impl IntoIterator<Item = S>,
) -> String {
    known
        .into_iter()
        .map(|k| {
            let k = k.as_ref().to_owned();
            (edit_distance(name, &k), k)
        })
        .filter(|(d, _)| *d <= 2)
        .min()
        .map(|(_, k)| format!("; did you mean `{k}`?"))
        .unwrap_or_default()
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}
