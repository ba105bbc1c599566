import Foundation

/// Hands e-mails to the machine's mail transfer agent through a sendmail-compatible command
/// (`KREISWERK_SENDMAIL`, default `/usr/sbin/sendmail -t -i`), which reads the message with its
/// headers on standard input. A command that fails makes the mail job fail, and the queue tries again later.
public struct Mailer: Sendable {
    public struct Configuration: Sendable {
        /// The command and its arguments, e.g. ["/usr/sbin/sendmail", "-t", "-i"].
        public var command: [String]
        public var from: String
        /// Where links in e-mails point: the address people reach Kreiswerk at.
        public var publicURL: String

        public init(command: [String] = ["/usr/sbin/sendmail", "-t", "-i"], from: String = "kreiswerk@localhost", publicURL: String) {
            self.command = command
            self.from = from
            self.publicURL = publicURL
        }

        /// From `KREISWERK_SENDMAIL` (a command line, split on spaces) and `KREISWERK_MAIL_FROM`.
        public static func fromEnvironment(publicURL: String, environment: [String: String] = ProcessInfo.processInfo.environment) -> Configuration {
            var configuration = Configuration(publicURL: publicURL)
            if let command = environment["KREISWERK_SENDMAIL"]?.split(separator: " ").map(String.init), !command.isEmpty {
                configuration.command = command
            }
            if let from = environment["KREISWERK_MAIL_FROM"], !from.isEmpty { configuration.from = from }
            return configuration
        }
    }

    public struct Message: Sendable, Equatable {
        public var to: String
        public var subject: String
        public var body: String
    }

    public struct Failed: Error, CustomStringConvertible {
        public var description: String
    }

    public let configuration: Configuration

    public init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// The message as the MTA reads it: RFC 5322 headers, UTF-8 text body.
    func render(_ message: Message, date: Date = Date()) -> String {
        let headers = [
            "From: Kreiswerk <\(configuration.from)>",
            "To: \(message.to)",
            "Subject: \(Self.encodedWord(message.subject))",
            "Date: \(Self.rfc5322(date))",
            "Message-ID: <\(UUID().uuidString.lowercased())@kreiswerk>",
            "MIME-Version: 1.0",
            "Content-Type: text/plain; charset=utf-8",
            "Content-Transfer-Encoding: 8bit",
            "Auto-Submitted: auto-generated",
        ]
        return headers.joined(separator: "\r\n") + "\r\n\r\n" + message.body.replacingOccurrences(of: "\n", with: "\r\n") + "\r\n"
    }

    public func send(_ message: Message) async throws {
        guard message.to.wholeMatch(of: /[^@\s<>]+@[^@\s<>]+/) != nil else { throw Failed(description: "'\(message.to)' is not an e-mail address") }
        let text = render(message)
        let command = configuration.command
        let running = RunningCommand()
        try await withTaskCancellationHandler {
            // Waiting for a process blocks its thread: on a dispatch thread, never on one of the few threads that run
            // every task of the process (two on a two-core machine).
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                DispatchQueue.global().async {
                    continuation.resume(with: Result { try Self.run(command, input: text, process: running.process) })
                }
            }
        } onCancel: {
            // The job timed out (or the worker stops): a hanging MTA must not hold the worker.
            running.terminate()
        }
    }

    /// Runs the mail command with `input` on its standard input and waits for it; throws when it cannot start or fails.
    private static func run(_ command: [String], input text: String, process: Process) throws {
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let input = Pipe()
        let errors = Pipe()
        process.standardInput = input
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw Failed(
                description: "cannot run the mail command \(command[0]) (\(error.localizedDescription)): install an MTA or set KREISWERK_SENDMAIL"
            )
        }
        // A command that exits without reading everything closes the pipe; its exit status decides.
        try? input.fileHandleForWriting.write(contentsOf: Data(text.utf8))
        try? input.fileHandleForWriting.close()
        let stderr = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failed(description: "the mail command \(command[0]) exited with \(process.terminationStatus): \(stderr.prefix(500))")
        }
    }

    /// The sendmail process, for the cancellation handler to stop.
    private final class RunningCommand: @unchecked Sendable {
        let process = Process()
        func terminate() { if process.isRunning { process.terminate() } }
    }

    /// RFC 2047 for a subject with umlauts.
    static func encodedWord(_ text: String) -> String {
        text.allSatisfy(\.isASCII) ? text : "=?UTF-8?B?\(Data(text.utf8).base64EncodedString())?="
    }

    static func rfc5322(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "Europe/Berlin")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss Z"
        return formatter.string(from: date)
    }
}
