using Chat.Core.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Chat.Storage.Sqlite;

public static class SqliteRegistration
{
    /// <summary>The embedded store (one node) in the database file <paramref name="databasePath"/>, behind every store seam.</summary>
    public static IServiceCollection AddSqliteChatStore(this IServiceCollection services, string databasePath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(databasePath);
        return services.AddChatStore(sp => new SqliteChatStore(databasePath, sp.GetService<ILogger<SqliteChatStore>>()));
    }
}
