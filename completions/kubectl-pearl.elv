
use builtin;
use str;

set edit:completion:arg-completer[kubectl-pearl] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'kubectl-pearl'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'kubectl-pearl'= {
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files, or ~/.kube/config)'
            cand --context 'The kubeconfig context to use'
            cand --cluster 'The kubeconfig cluster to use'
            cand --user 'The kubeconfig user to use'
            cand -n 'Namespace for tasks that do not name one (default: the context''s namespace)'
            cand --namespace 'Namespace for tasks that do not name one (default: the context''s namespace)'
            cand --as 'Username to impersonate for the operation'
            cand --as-group 'Group to impersonate (repeat for several)'
            cand --request-timeout 'How long to wait for one server request before giving up (e.g. 30s, 1m); 0 means no limit'
            cand -v 'Log verbosity, as kubectl''s -v: 0 warnings, 2 info, 4 debug, 6 and up trace'
            cand --v 'Log verbosity, as kubectl''s -v: 0 warnings, 2 info, 4 debug, 6 and up trace'
            cand -A 'Act on all namespaces for tasks that do not name one'
            cand --all-namespaces 'Act on all namespaces for tasks that do not name one'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand run 'Run task files (YAML, JSON; `-` reads stdin) and Rhai scripts (*.rhai) on one worker pool'
            cand validate 'Check task files and scripts without contacting the cluster; exit 2 on any problem'
            cand explain 'List the task types, or describe one type''s parameters (--script: the script bindings)'
            cand eval 'Evaluate a Rhai script given on the command line (`-` reads it from stdin) and print its value'
            cand version 'Print the version and the git commit it was built from'
            cand completions 'Print shell completions (bash, zsh, fish, powershell, elvish)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'kubectl-pearl;run'= {
            cand --workers 'Requests in flight at once, for the whole run (every task and script shares them)'
            cand --qps 'Client-side limit on requests per second (default: none; the API server''s fairness applies)'
            cand --burst 'Requests allowed at once above --qps after a quiet spell'
            cand --attempts 'Attempts per request for retryable errors (conflict, 429, 5xx, timeouts), the first included'
            cand --dry-run 'Send nothing that changes the cluster: `server` submits with dryRun (admission runs), `client` only reports what would change. A bare --dry-run means client'
            cand --protect 'Namespaces (glob patterns, e.g. ''prod-*'') that destructive tasks must not touch'
            cand --arg 'A value scripts read from the ARGS map (repeat for several)'
            cand --script-timeout 'Wall-clock limit for each script'
            cand -o 'Output format of the report'
            cand --output 'Output format of the report'
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files, or ~/.kube/config)'
            cand --context 'The kubeconfig context to use'
            cand --cluster 'The kubeconfig cluster to use'
            cand --user 'The kubeconfig user to use'
            cand -n 'Namespace for tasks that do not name one (default: the context''s namespace)'
            cand --namespace 'Namespace for tasks that do not name one (default: the context''s namespace)'
            cand --as 'Username to impersonate for the operation'
            cand --as-group 'Group to impersonate (repeat for several)'
            cand --request-timeout 'How long to wait for one server request before giving up (e.g. 30s, 1m); 0 means no limit'
            cand -v 'Log verbosity, as kubectl''s -v: 0 warnings, 2 info, 4 debug, 6 and up trace'
            cand --v 'Log verbosity, as kubectl''s -v: 0 warnings, 2 info, 4 debug, 6 and up trace'
            cand -y 'Do not ask for confirmation before deleting namespaces'
            cand --yes 'Do not ask for confirmation before deleting namespaces'
            cand --force 'Act on namespaces matched by --protect anyway (the API server''s own refusals still hold)'
            cand -A 'Act on all namespaces for tasks that do not name one'
            cand --all-namespaces 'Act on all namespaces for tasks that do not name one'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'kubectl-pearl;validate'= {
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files, or ~/.kube/config)'
            cand --context 'The kubeconfig context to use'
            cand --cluster 'The kubeconfig cluster to use'
            cand --user 'The kubeconfig user to use'
            cand -n 'Namespace for tasks that do not name one (default: the context''s namespace)'
            cand --namespace 'Namespace for tasks that do not name one (default: the context''s namespace)'
            cand --as 'Username to impersonate for the operation'
            cand --as-group 'Group to impersonate (repeat for several)'
            cand --request-timeout 'How long to wait for one server request before giving up (e.g. 30s, 1m); 0 means no limit'
            cand -v 'Log verbosity, as kubectl''s -v: 0 warnings, 2 info, 4 debug, 6 and up trace'
            cand --v 'Log verbosity, as kubectl''s -v: 0 warnings, 2 info, 4 debug, 6 and up trace'
            cand -A 'Act on all namespaces for tasks that do not name one'
            cand --all-namespaces 'Act on all namespaces for tasks that do not name one'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'kubectl-pearl;explain'= {
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files, or ~/.kube/config)'
            cand --context 'The kubeconfig context to use'
            cand --cluster 'The kubeconfig cluster to use'
            cand --user 'The kubeconfig user to use'
            cand -n 'Namespace for tasks that do not name one (default: the context''s namespace)'
            cand --namespace 'Namespace for tasks that do not name one (default: the context''s namespace)'
            cand --as 'Username to impersonate for the operation'
            cand --as-group 'Group to impersonate (repeat for several)'
            cand --request-timeout 'How long to wait for one server request before giving up (e.g. 30s, 1m); 0 means no limit'
            cand -v 'Log verbosity, as kubectl''s -v: 0 warnings, 2 info, 4 debug, 6 and up trace'
            cand --v 'Log verbosity, as kubectl''s -v: 0 warnings, 2 info, 4 debug, 6 and up trace'
            cand --script 'List every script binding with its signature'
            cand -A 'Act on all namespaces for tasks that do not name one'
            cand --all-namespaces 'Act on all namespaces for tasks that do not name one'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'kubectl-pearl;eval'= {
            cand --workers 'Requests in flight at once, for the whole run (every task and script shares them)'
            cand --qps 'Client-side limit on requests per second (default: none; the API server''s fairness applies)'
            cand --burst 'Requests allowed at once above --qps after a quiet spell'
            cand --attempts 'Attempts per request for retryable errors (conflict, 429, 5xx, timeouts), the first included'
            cand --dry-run 'Send nothing that changes the cluster: `server` submits with dryRun (admission runs), `client` only reports what would change. A bare --dry-run means client'
            cand --protect 'Namespaces (glob patterns, e.g. ''prod-*'') that destructive tasks must not touch'
            cand --arg 'A value scripts read from the ARGS map (repeat for several)'
            cand --script-timeout 'Wall-clock limit for each script'
            cand -o 'Output format of the value'
            cand --output 'Output format of the value'
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files, or ~/.kube/config)'
            cand --context 'The kubeconfig context to use'
            cand --cluster 'The kubeconfig cluster to use'
            cand --user 'The kubeconfig user to use'
            cand -n 'Namespace for tasks that do not name one (default: the context''s namespace)'
            cand --namespace 'Namespace for tasks that do not name one (default: the context''s namespace)'
            cand --as 'Username to impersonate for the operation'
            cand --as-group 'Group to impersonate (repeat for several)'
            cand --request-timeout 'How long to wait for one server request before giving up (e.g. 30s, 1m); 0 means no limit'
            cand -v 'Log verbosity, as kubectl''s -v: 0 warnings, 2 info, 4 debug, 6 and up trace'
            cand --v 'Log verbosity, as kubectl''s -v: 0 warnings, 2 info, 4 debug, 6 and up trace'
            cand -y 'Do not ask for confirmation before deleting namespaces'
            cand --yes 'Do not ask for confirmation before deleting namespaces'
            cand --force 'Act on namespaces matched by --protect anyway (the API server''s own refusals still hold)'
            cand -A 'Act on all namespaces for tasks that do not name one'
            cand --all-namespaces 'Act on all namespaces for tasks that do not name one'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'kubectl-pearl;version'= {
            cand -o 'Output format'
            cand --output 'Output format'
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files, or ~/.kube/config)'
            cand --context 'The kubeconfig context to use'
            cand --cluster 'The kubeconfig cluster to use'
            cand --user 'The kubeconfig user to use'
            cand -n 'Namespace for tasks that do not name one (default: the context''s namespace)'
            cand --namespace 'Namespace for tasks that do not name one (default: the context''s namespace)'
            cand --as 'Username to impersonate for the operation'
            cand --as-group 'Group to impersonate (repeat for several)'
            cand --request-timeout 'How long to wait for one server request before giving up (e.g. 30s, 1m); 0 means no limit'
            cand -v 'Log verbosity, as kubectl''s -v: 0 warnings, 2 info, 4 debug, 6 and up trace'
            cand --v 'Log verbosity, as kubectl''s -v: 0 warnings, 2 info, 4 debug, 6 and up trace'
            cand -A 'Act on all namespaces for tasks that do not name one'
            cand --all-namespaces 'Act on all namespaces for tasks that do not name one'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'kubectl-pearl;completions'= {
            cand --kubeconfig 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files, or ~/.kube/config)'
            cand --context 'The kubeconfig context to use'
            cand --cluster 'The kubeconfig cluster to use'
            cand --user 'The kubeconfig user to use'
            cand -n 'Namespace for tasks that do not name one (default: the context''s namespace)'
            cand --namespace 'Namespace for tasks that do not name one (default: the context''s namespace)'
            cand --as 'Username to impersonate for the operation'
            cand --as-group 'Group to impersonate (repeat for several)'
            cand --request-timeout 'How long to wait for one server request before giving up (e.g. 30s, 1m); 0 means no limit'
            cand -v 'Log verbosity, as kubectl''s -v: 0 warnings, 2 info, 4 debug, 6 and up trace'
            cand --v 'Log verbosity, as kubectl''s -v: 0 warnings, 2 info, 4 debug, 6 and up trace'
            cand -A 'Act on all namespaces for tasks that do not name one'
            cand --all-namespaces 'Act on all namespaces for tasks that do not name one'
            cand -h 'Print help'
            cand --help 'Print help'
        }
        &'kubectl-pearl;help'= {
            cand run 'Run task files (YAML, JSON; `-` reads stdin) and Rhai scripts (*.rhai) on one worker pool'
            cand validate 'Check task files and scripts without contacting the cluster; exit 2 on any problem'
            cand explain 'List the task types, or describe one type''s parameters (--script: the script bindings)'
            cand eval 'Evaluate a Rhai script given on the command line (`-` reads it from stdin) and print its value'
            cand version 'Print the version and the git commit it was built from'
            cand completions 'Print shell completions (bash, zsh, fish, powershell, elvish)'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'kubectl-pearl;help;run'= {
        }
        &'kubectl-pearl;help;validate'= {
        }
        &'kubectl-pearl;help;explain'= {
        }
        &'kubectl-pearl;help;eval'= {
        }
        &'kubectl-pearl;help;version'= {
        }
        &'kubectl-pearl;help;completions'= {
        }
        &'kubectl-pearl;help;help'= {
        }
    ]
    $completions[$command]
}
