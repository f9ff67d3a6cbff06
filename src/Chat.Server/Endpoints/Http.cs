using System.Text.Json;
using Chat.Core;
using Chat.Core.Auth;
using Chat.Protocol;

namespace Chat.Server.Endpoints;

/// <summary>HTTP plumbing shared by the endpoints: bearer auth, errors as {code, error}.</summary>
internal static class Http
{
    public static string? BearerToken(HttpContext http)
    {
        string? header = http.Request.Headers.Authorization.FirstOrDefault();
        return header is not null && header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
    }

    /// <summary>The caller's address (the connection's peer), for per-address abuse limits.</summary>
    public static string ClientAddress(HttpContext http) => http.Connection.RemoteIpAddress?.ToString() ?? "unknown";

    public static Task WriteError(HttpContext http, int status, string code, string message, int? retryAfterMs = null)
    {
        byte[] body = JsonSerializer.SerializeToUtf8Bytes(new ErrorBody(code, message, retryAfterMs), ChatJson.Default.ErrorBody);
        http.Response.StatusCode = status;
        http.Response.ContentType = "application/json; charset=utf-8";
        if (retryAfterMs is int ms) http.Response.Headers.RetryAfter = ((ms + 999) / 1000).ToString(System.Globalization.CultureInfo.InvariantCulture);
        http.Response.ContentLength = body.Length;
        return http.Response.Body.WriteAsync(body).AsTask();
    }

    public static int StatusOf(string code) => code switch
    {
        ErrorCodes.InvalidJson or ErrorCodes.InvalidRequest or ErrorCodes.GroupFull or ErrorCodes.UnknownType => 400,
        ErrorCodes.Unauthorized => 401,
        ErrorCodes.Forbidden => 403,
        ErrorCodes.NotFound => 404,
        ErrorCodes.Conflict => 409,
        ErrorCodes.ContentTooLarge or ErrorCodes.FileTooLarge => 413,
        ErrorCodes.RateLimited => 429,
        ErrorCodes.Unavailable => 503,
        _ => 500,
    };

    public static Principal User(HttpContext http) => (Principal)http.Items[typeof(Principal)]!;
}

/// <summary>Turns service failures and bad JSON into the contract's error bodies.</summary>
internal sealed partial class ErrorMiddleware(RequestDelegate next, ILogger<ErrorMiddleware> log, Microsoft.Extensions.Options.IOptions<ChatOptions> options)
{
    /// <summary>The signed upload PUT streams a file whose declared size is its limit (checked by the file service).</summary>
    private static bool IsUpload(HttpContext http) =>
        HttpMethods.IsPut(http.Request.Method) && http.Request.Path.StartsWithSegments("/api/files", StringComparison.Ordinal)
        && http.Request.Path.Value!.EndsWith("/upload", StringComparison.Ordinal);

    public async Task InvokeAsync(HttpContext http)
    {
        // Chat:Limits:MaxRequestBodyBytes for every endpoint (the upload endpoint lifts it for its own checked stream):
        // a huge body is refused while it streams in, before any work on it.
        if (http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodyLimit)
            bodyLimit.MaxRequestBodySize = options.Value.Limits.MaxRequestBodyBytes;
        if (http.Request.ContentLength > options.Value.Limits.MaxRequestBodyBytes && !IsUpload(http))
        {
            await Http.WriteError(http, 413, ErrorCodes.ContentTooLarge, $"The request body is larger than {options.Value.Limits.MaxRequestBodyBytes} bytes.");
            return;
        }
        if (http.Request.Path.Value?.Length + http.Request.QueryString.Value?.Length > MaxRequestTarget)
        {
            await Http.WriteError(http, StatusCodes.Status414UriTooLong, ErrorCodes.InvalidRequest, $"The request's path and query are longer than {MaxRequestTarget} characters.");
            return;
        }
        try
        {
            await next(http);
            // Routing (404, 405) and the framework's own refusals end without a body: give them the contract's.
            if (!http.Response.HasStarted && http.Response.StatusCode >= 400 && http.Response.ContentLength is null && http.Response.ContentType is null)
                await WriteBodiless(http);
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException ex) when (ex.StatusCode == StatusCodes.Status413PayloadTooLarge && !http.Response.HasStarted)
        {
            await Http.WriteError(http, 413, ErrorCodes.ContentTooLarge, "The request body is too large.");
        }
        catch (ChatException ex) when (!http.Response.HasStarted)
        {
            await Http.WriteError(http, Http.StatusOf(ex.Code), ex.Code, ex.Message, ex.RetryAfterMs);
        }
        catch (BadHttpRequestException ex) when (!http.Response.HasStarted)
        {
            bool json = ex.InnerException is JsonException || ex.Message.Contains("JSON", StringComparison.OrdinalIgnoreCase);
            if (ex.StatusCode == StatusCodes.Status413PayloadTooLarge)
                await Http.WriteError(http, 413, ErrorCodes.ContentTooLarge, "The request body is too large.");
            else if (ex.StatusCode == StatusCodes.Status415UnsupportedMediaType)
                await Http.WriteError(http, 415, ErrorCodes.InvalidRequest, "The body must be JSON (Content-Type: application/json).");
            else if (ex.InnerException is JsonException inner)
                await WriteJsonError(http, inner);
            else
                await Http.WriteError(http, 400, json ? ErrorCodes.InvalidJson : ErrorCodes.InvalidRequest, json ? "The body is not valid JSON of the expected shape." : "Bad request.");
        }
        catch (JsonException ex) when (!http.Response.HasStarted)
        {
            await WriteJsonError(http, ex);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (!http.Response.HasStarted && Chat.Core.Storage.StorageSpace.IsDiskFull(ex))
        {
            // A full disk is the operator's to fix, not a bug: 503 with a sentence, and /healthz says degraded.
            LogOutOfSpace(log, http.Request.Method, http.Request.Path, ex.Message);
            await Http.WriteError(http, 503, ErrorCodes.Unavailable, Chat.Core.Storage.StorageFullException.ClientMessage);
        }
        catch (Exception ex) when (!http.Response.HasStarted && Chat.Core.Storage.StoreOutage.Is(ex))
        {
            LogUnhandled(log, http.Request.Method, http.Request.Path, ex);
            await Http.WriteError(http, 503, ErrorCodes.Unavailable, Chat.Core.Storage.StoreOutage.ClientMessage);
        }
        catch (Exception ex) when (!http.Response.HasStarted)
        {
            LogUnhandled(log, http.Request.Method, http.Request.Path, ex);
            await Http.WriteError(http, 500, ErrorCodes.Internal, "Something went wrong on the server.");
        }
    }

    /// <summary>
    /// Longer paths and queries are refused with 414 here, with a body; Kestrel's own request-line limit (set above
    /// this, see ChatServiceRegistration) answers longer ones still, bodiless.
    /// </summary>
    public const int MaxRequestTarget = 8 * 1024;

    /// <summary>
    /// Well-formed JSON with a wrongly typed value (such as a number sent as a string) is a bad request, as on the
    /// socket; only JSON that does not parse is <c>invalid_json</c>. System.Text.Json tells the two apart only by
    /// where it failed: a type mismatch carries the value's path, a syntax error a position inside a token.
    /// </summary>
    private static Task WriteJsonError(HttpContext http, JsonException ex) =>
        IsTypeMismatch(ex)
            ? Http.WriteError(http, 400, ErrorCodes.InvalidRequest, $"A value in the body has the wrong type{(ex.Path is { Length: > 0 } p ? $" ({p})" : "")}.")
            : Http.WriteError(http, 400, ErrorCodes.InvalidJson, "The body is not valid JSON of the expected shape.");

    private static bool IsTypeMismatch(JsonException ex) =>
        ex.Message.StartsWith("The JSON value could not be converted", StringComparison.Ordinal);

    private static Task WriteBodiless(HttpContext http)
    {
        int status = http.Response.StatusCode;
        (string code, string message) = status switch
        {
            404 => (ErrorCodes.NotFound, "There is nothing at this address."),
            405 => (ErrorCodes.InvalidRequest, $"{http.Request.Method} is not allowed on this address."),
            413 => (ErrorCodes.ContentTooLarge, "The request body is too large."),
            415 => (ErrorCodes.InvalidRequest, "The body must be JSON (Content-Type: application/json)."),
            401 => (ErrorCodes.Unauthorized, "A valid bearer token is required."),
            403 => (ErrorCodes.Forbidden, "Not allowed."),
            429 => (ErrorCodes.RateLimited, "Too many requests."),
            >= 500 => (ErrorCodes.Internal, "Something went wrong on the server."),
            _ => (ErrorCodes.InvalidRequest, "Bad request."),
        };
        return Http.WriteError(http, status, code, message);
    }

    [LoggerMessage(3002, LogLevel.Error, "{Method} {Path} failed for lack of storage space: {Reason}")]
    private static partial void LogOutOfSpace(ILogger logger, string method, string path, string reason);

    [LoggerMessage(3001, LogLevel.Error, "Unhandled error in {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, string method, string path, Exception ex);
}

/// <summary>Requires a valid bearer token on a route group; the device is put in HttpContext.Items.</summary>
internal sealed class RequireDeviceFilter(AuthService auth) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var principal = await auth.AuthenticateAsync(Http.BearerToken(http), http.RequestAborted);
        if (principal is null)
            return Results.Json(new ErrorBody(ErrorCodes.Unauthorized, "A valid bearer token is required."), ChatJson.Default.ErrorBody, statusCode: 401);
        http.Items[typeof(Principal)] = principal;
        return await next(context);
    }
}
