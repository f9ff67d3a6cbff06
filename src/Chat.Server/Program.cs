using Chat.Server.Hosting;

OwnerOnlyFiles.Apply();
try
{
    var builder = WebApplication.CreateBuilder(args);
    // The seed's port by default; --urls and ASPNETCORE_URLS (both land in "urls") win.
    if (string.IsNullOrEmpty(builder.Configuration["urls"])) builder.Configuration["urls"] = "http://localhost:8080";
    builder.AddChat();

    var app = builder.Build();
    app.ValidateOptions();
    ListenCheck.ThrowIfInUse(app.Configuration["urls"]);
    app.UseChat();
    app.Run();
    return 0;
}
catch (Exception ex) when (StartupErrors.IsReportable(ex))
{
    return StartupErrors.Report(ex);
}

/// <summary>Entry point; public so tests can boot the real host.</summary>
public partial class Program;
