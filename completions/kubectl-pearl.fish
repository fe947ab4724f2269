# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_kubectl_pearl_global_optspecs
    string join \n kubeconfig= context= cluster= user= n/namespace= A/all-namespaces as= as-group= request-timeout= v/v= h/help V/version
end

function __fish_kubectl_pearl_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_kubectl_pearl_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_kubectl_pearl_using_subcommand
    set -l cmd (__fish_kubectl_pearl_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c kubectl-pearl -n "__fish_kubectl_pearl_needs_command" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files, or ~/.kube/config)' -r -F
complete -c kubectl-pearl -n "__fish_kubectl_pearl_needs_command" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_needs_command" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_needs_command" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_needs_command" -s n -l namespace -d 'Namespace for tasks that do not name one (default: the context\'s namespace)' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_needs_command" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_needs_command" -l as-group -d 'Group to impersonate (repeat for several)' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_needs_command" -l request-timeout -d 'How long to wait for one server request before giving up (e.g. 30s, 1m); 0 means no limit' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_needs_command" -s v -l v -d 'Log verbosity, as kubectl\'s -v: 0 warnings, 2 info, 4 debug, 6 and up trace' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_needs_command" -s A -l all-namespaces -d 'Act on all namespaces for tasks that do not name one'
complete -c kubectl-pearl -n "__fish_kubectl_pearl_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-pearl -n "__fish_kubectl_pearl_needs_command" -s V -l version -d 'Print version'
complete -c kubectl-pearl -n "__fish_kubectl_pearl_needs_command" -f -a "run" -d 'Run task files (YAML, JSON; `-` reads stdin) and Rhai scripts (*.rhai) on one worker pool'
complete -c kubectl-pearl -n "__fish_kubectl_pearl_needs_command" -f -a "validate" -d 'Check task files and scripts without contacting the cluster; exit 2 on any problem'
complete -c kubectl-pearl -n "__fish_kubectl_pearl_needs_command" -f -a "explain" -d 'List the task types, or describe one type\'s parameters (--script: the script bindings)'
complete -c kubectl-pearl -n "__fish_kubectl_pearl_needs_command" -f -a "eval" -d 'Evaluate a Rhai script given on the command line (`-` reads it from stdin) and print its value'
complete -c kubectl-pearl -n "__fish_kubectl_pearl_needs_command" -f -a "version" -d 'Print the version and the git commit it was built from'
complete -c kubectl-pearl -n "__fish_kubectl_pearl_needs_command" -f -a "completions" -d 'Print shell completions (bash, zsh, fish, powershell, elvish)'
complete -c kubectl-pearl -n "__fish_kubectl_pearl_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand run" -l workers -d 'Requests in flight at once, for the whole run (every task and script shares them)' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand run" -l qps -d 'Client-side limit on requests per second (default: none; the API server\'s fairness applies)' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand run" -l burst -d 'Requests allowed at once above --qps after a quiet spell' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand run" -l attempts -d 'Attempts per request for retryable errors (conflict, 429, 5xx, timeouts), the first included' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand run" -l dry-run -d 'Send nothing that changes the cluster: `server` submits with dryRun (admission runs), `client` only reports what would change. A bare --dry-run means client' -r -f -a "none\t''
server\t''
client\t''"
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand run" -l protect -d 'Namespaces (glob patterns, e.g. \'prod-*\') that destructive tasks must not touch' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand run" -l arg -d 'A value scripts read from the ARGS map (repeat for several)' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand run" -l script-timeout -d 'Wall-clock limit for each script' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand run" -s o -l output -d 'Output format of the report' -r -f -a "table\t'A table of tasks (the default)'
json\t''
yaml\t''"
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand run" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files, or ~/.kube/config)' -r -F
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand run" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand run" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand run" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand run" -s n -l namespace -d 'Namespace for tasks that do not name one (default: the context\'s namespace)' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand run" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand run" -l as-group -d 'Group to impersonate (repeat for several)' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand run" -l request-timeout -d 'How long to wait for one server request before giving up (e.g. 30s, 1m); 0 means no limit' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand run" -s v -l v -d 'Log verbosity, as kubectl\'s -v: 0 warnings, 2 info, 4 debug, 6 and up trace' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand run" -s y -l yes -d 'Do not ask for confirmation before deleting namespaces'
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand run" -l force -d 'Act on namespaces matched by --protect anyway (the API server\'s own refusals still hold)'
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand run" -s A -l all-namespaces -d 'Act on all namespaces for tasks that do not name one'
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand validate" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files, or ~/.kube/config)' -r -F
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand validate" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand validate" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand validate" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand validate" -s n -l namespace -d 'Namespace for tasks that do not name one (default: the context\'s namespace)' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand validate" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand validate" -l as-group -d 'Group to impersonate (repeat for several)' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand validate" -l request-timeout -d 'How long to wait for one server request before giving up (e.g. 30s, 1m); 0 means no limit' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand validate" -s v -l v -d 'Log verbosity, as kubectl\'s -v: 0 warnings, 2 info, 4 debug, 6 and up trace' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand validate" -s A -l all-namespaces -d 'Act on all namespaces for tasks that do not name one'
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand validate" -s h -l help -d 'Print help'
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand explain" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files, or ~/.kube/config)' -r -F
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand explain" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand explain" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand explain" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand explain" -s n -l namespace -d 'Namespace for tasks that do not name one (default: the context\'s namespace)' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand explain" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand explain" -l as-group -d 'Group to impersonate (repeat for several)' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand explain" -l request-timeout -d 'How long to wait for one server request before giving up (e.g. 30s, 1m); 0 means no limit' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand explain" -s v -l v -d 'Log verbosity, as kubectl\'s -v: 0 warnings, 2 info, 4 debug, 6 and up trace' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand explain" -l script -d 'List every script binding with its signature'
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand explain" -s A -l all-namespaces -d 'Act on all namespaces for tasks that do not name one'
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand explain" -s h -l help -d 'Print help'
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand eval" -l workers -d 'Requests in flight at once, for the whole run (every task and script shares them)' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand eval" -l qps -d 'Client-side limit on requests per second (default: none; the API server\'s fairness applies)' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand eval" -l burst -d 'Requests allowed at once above --qps after a quiet spell' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand eval" -l attempts -d 'Attempts per request for retryable errors (conflict, 429, 5xx, timeouts), the first included' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand eval" -l dry-run -d 'Send nothing that changes the cluster: `server` submits with dryRun (admission runs), `client` only reports what would change. A bare --dry-run means client' -r -f -a "none\t''
server\t''
client\t''"
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand eval" -l protect -d 'Namespaces (glob patterns, e.g. \'prod-*\') that destructive tasks must not touch' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand eval" -l arg -d 'A value scripts read from the ARGS map (repeat for several)' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand eval" -l script-timeout -d 'Wall-clock limit for each script' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand eval" -s o -l output -d 'Output format of the value' -r -f -a "json\t''
yaml\t''"
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand eval" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files, or ~/.kube/config)' -r -F
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand eval" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand eval" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand eval" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand eval" -s n -l namespace -d 'Namespace for tasks that do not name one (default: the context\'s namespace)' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand eval" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand eval" -l as-group -d 'Group to impersonate (repeat for several)' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand eval" -l request-timeout -d 'How long to wait for one server request before giving up (e.g. 30s, 1m); 0 means no limit' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand eval" -s v -l v -d 'Log verbosity, as kubectl\'s -v: 0 warnings, 2 info, 4 debug, 6 and up trace' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand eval" -s y -l yes -d 'Do not ask for confirmation before deleting namespaces'
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand eval" -l force -d 'Act on namespaces matched by --protect anyway (the API server\'s own refusals still hold)'
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand eval" -s A -l all-namespaces -d 'Act on all namespaces for tasks that do not name one'
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand eval" -s h -l help -d 'Print help'
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand version" -s o -l output -d 'Output format' -r -f -a "json\t''
yaml\t''"
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand version" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files, or ~/.kube/config)' -r -F
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand version" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand version" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand version" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand version" -s n -l namespace -d 'Namespace for tasks that do not name one (default: the context\'s namespace)' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand version" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand version" -l as-group -d 'Group to impersonate (repeat for several)' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand version" -l request-timeout -d 'How long to wait for one server request before giving up (e.g. 30s, 1m); 0 means no limit' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand version" -s v -l v -d 'Log verbosity, as kubectl\'s -v: 0 warnings, 2 info, 4 debug, 6 and up trace' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand version" -s A -l all-namespaces -d 'Act on all namespaces for tasks that do not name one'
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand version" -s h -l help -d 'Print help'
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand completions" -l kubeconfig -d 'Path to the kubeconfig file (default: $KUBECONFIG, which may list several files, or ~/.kube/config)' -r -F
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand completions" -l context -d 'The kubeconfig context to use' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand completions" -l cluster -d 'The kubeconfig cluster to use' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand completions" -l user -d 'The kubeconfig user to use' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand completions" -s n -l namespace -d 'Namespace for tasks that do not name one (default: the context\'s namespace)' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand completions" -l as -d 'Username to impersonate for the operation' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand completions" -l as-group -d 'Group to impersonate (repeat for several)' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand completions" -l request-timeout -d 'How long to wait for one server request before giving up (e.g. 30s, 1m); 0 means no limit' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand completions" -s v -l v -d 'Log verbosity, as kubectl\'s -v: 0 warnings, 2 info, 4 debug, 6 and up trace' -r
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand completions" -s A -l all-namespaces -d 'Act on all namespaces for tasks that do not name one'
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand completions" -s h -l help -d 'Print help'
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand help; and not __fish_seen_subcommand_from run validate explain eval version completions help" -f -a "run" -d 'Run task files (YAML, JSON; `-` reads stdin) and Rhai scripts (*.rhai) on one worker pool'
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand help; and not __fish_seen_subcommand_from run validate explain eval version completions help" -f -a "validate" -d 'Check task files and scripts without contacting the cluster; exit 2 on any problem'
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand help; and not __fish_seen_subcommand_from run validate explain eval version completions help" -f -a "explain" -d 'List the task types, or describe one type\'s parameters (--script: the script bindings)'
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand help; and not __fish_seen_subcommand_from run validate explain eval version completions help" -f -a "eval" -d 'Evaluate a Rhai script given on the command line (`-` reads it from stdin) and print its value'
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand help; and not __fish_seen_subcommand_from run validate explain eval version completions help" -f -a "version" -d 'Print the version and the git commit it was built from'
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand help; and not __fish_seen_subcommand_from run validate explain eval version completions help" -f -a "completions" -d 'Print shell completions (bash, zsh, fish, powershell, elvish)'
complete -c kubectl-pearl -n "__fish_kubectl_pearl_using_subcommand help; and not __fish_seen_subcommand_from run validate explain eval version completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
