using System.Text.RegularExpressions;
using Chat.Tests.Infrastructure;

namespace Chat.Tests.Hosting;

/// <summary>
/// The project carries its own contract (docs/protocol.md): every relative link in the README and the docs resolves
/// to a file inside the repository, none points outside it, and the entry pages link to the contract.
/// </summary>
public sealed partial class DocsLinkTests
{
    private static readonly string Root = Path.GetFullPath(Path.Combine(ServerProcess.ServerProjectDir(), "..", ".."));

    [GeneratedRegex(@"\]\(([^)\s]+)\)")]
    private static partial Regex MarkdownLink();

    public static TheoryData<string> Pages()
    {
        var pages = new TheoryData<string>();
        foreach (string file in Directory.EnumerateFiles(Root, "*.md", SearchOption.AllDirectories))
        {
            string relative = Path.GetRelativePath(Root, file);
            if (relative.Split(Path.DirectorySeparatorChar).Any(part => part is "bin" or "obj" or "node_modules" || part.StartsWith('.'))) continue;
            pages.Add(relative);
        }
        return pages;
    }

    [Theory]
    [MemberData(nameof(Pages))]
    public void Every_relative_link_resolves_inside_the_repository(string page)
    {
        string path = Path.Combine(Root, page);
        foreach (Match m in MarkdownLink().Matches(File.ReadAllText(path)))
        {
            string target = m.Groups[1].Value;
            if (target.StartsWith('#') || target.Contains("://", StringComparison.Ordinal) || target.StartsWith("mailto:", StringComparison.Ordinal)) continue;
            string file = Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, Uri.UnescapeDataString(target.Split('#')[0])));
            Assert.True(file.StartsWith(Root + Path.DirectorySeparatorChar, StringComparison.Ordinal), $"{page} links outside the repository: {target}");
            Assert.True(File.Exists(file) || Directory.Exists(file), $"{page} links to a missing file: {target}");
        }
    }

    [Theory]
    [InlineData("README.md", "docs/protocol.md")]
    [InlineData("docs/api.md", "protocol.md")]
    public void The_entry_pages_link_to_the_projects_own_contract(string page, string link)
    {
        Assert.Contains($"]({link})", File.ReadAllText(Path.Combine(Root, page)), StringComparison.Ordinal);
        Assert.StartsWith("# Chat protocol contract", File.ReadAllText(Path.Combine(Root, "docs", "protocol.md")), StringComparison.Ordinal);
    }
}
