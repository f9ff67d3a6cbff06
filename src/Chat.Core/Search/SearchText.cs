using System.Globalization;
using System.Text;

namespace Chat.Core.Search;

/// <summary>
/// The query side of search matching (PROTOCOL.md, Search): a query is split into words — runs of letters and
/// digits (combining marks stay with their word) — and every other character is dropped. The stores receive only
/// these words, so quotes, <c>*</c>, <c>:</c>, <c>-</c>, parentheses, <c>AND</c>/<c>NEAR(</c> can never reach an
/// engine as syntax: <c>AND</c> is just the word "and", <c>NEAR(</c> the word "near".
/// </summary>
public static class SearchText
{
    public const int MaxQueryChars = 200;

    /// <summary>The distinct words of <paramref name="query"/> (case-insensitively distinct, first spelling kept), in order.</summary>
    public static IReadOnlyList<string> Words(string query)
    {
        var words = new List<string>();
        var seen = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        var word = new StringBuilder();
        foreach (var rune in query.EnumerateRunes())
        {
            var category = Rune.GetUnicodeCategory(rune);
            bool letterOrDigit = Rune.IsLetterOrDigit(rune);
            bool mark = category is UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark;
            if (letterOrDigit || (mark && word.Length > 0))
            {
                word.Append(rune.ToString());
                continue;
            }
            Flush();
        }
        Flush();
        return words;

        void Flush()
        {
            if (word.Length == 0) return;
            string w = word.ToString();
            if (seen.Add(w)) words.Add(w);
            word.Clear();
        }
    }

    /// <summary>Characters as a reader counts them (code points), for the 1–200 rule.</summary>
    public static int Length(string query)
    {
        int n = 0;
        foreach (var _ in query.EnumerateRunes()) n++;
        return n;
    }
}
