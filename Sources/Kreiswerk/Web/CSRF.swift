import Foundation
import Hummingbird

/// Cross-site request forgery protection for web forms.
///
/// Signed-in forms carry the session's own token. Forms used before sign-in (sign-in,
/// invitation) use a double-submit cookie: a random `kw_csrf` cookie whose value the form repeats.
/// Both cookies are `SameSite=Lax`, a second line of defence.
public enum CSRF {
    public static let field = "_csrf"
    static let cookie = "kw_csrf"

    /// The token for an anonymous form, and the cookie to set when the browser has none yet.
    static func anonymousToken(_ request: Request, secure: Bool) -> (token: String, cookie: Cookie?) {
        if let existing = request.cookies[cookie]?.value, existing.count >= 32 { return (existing, nil) }
        let token = Secret.generate(prefix: "").value
        return (token, Cookie(name: cookie, value: token, path: "/", secure: secure, httpOnly: true, sameSite: .lax))
    }

    static func checkAnonymous(_ form: Form, _ request: Request) throws {
        guard let expected = request.cookies[cookie]?.value, !expected.isEmpty, Secret.constantTimeEquals(form.raw(field), expected) else {
            throw refused
        }
    }

    static func check(_ form: Form, session token: String) throws {
        guard Secret.constantTimeEquals(form.raw(field), token) else { throw refused }
    }

    static let refused = DomainError.forbidden(
        "Das Formular ist abgelaufen oder kam nicht von dieser Seite (CSRF-Schutz). Bitte laden Sie die Seite neu und senden Sie es erneut."
    )
}
