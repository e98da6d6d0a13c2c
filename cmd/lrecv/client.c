/*
 * client - lrecv --client and --allow-anonymous-source: Fluentd's
 * <security><client>, a shared key and a user list per client network.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "err.h"
#include "net.h"

#include "lrecv.h"

/* users=a:b: the names, each a --user. */
static void
client_users(struct client *cl, const char *v, const char *arg)
{
	char *s = xstrdup(v), *tok, *save = NULL;

	for (tok = strtok_r(s, ":", &save); tok; tok = strtok_r(NULL, ":",
	    &save)) {
		if (cl->nusers == MAX_USERS)
			die(EX_USAGE, "more than %d users in --client '%s'",
			    MAX_USERS, arg);
		cl->users[cl->nusers++] = xstrdup(tok);
	}
	free(s);
	if (!cl->nusers)
		die(EX_USAGE, "no user names in users= of --client '%s'", arg);
}

/* --client NETWORK[,shared_key=K][,users=A:B]. */
void
client_add(const char *arg)
{
	char *s = xstrdup(arg), *tok, *save = NULL;
	struct client *cl;

	if (o.nclients == MAX_CLIENTS)
		die(EX_USAGE, "more than %d --client", MAX_CLIENTS);
	cl = &o.clients[o.nclients++];
	memset(cl, 0, sizeof(*cl));
	tok = strtok_r(s, ",", &save);
	if (!tok || net_cidr_parse(tok, &cl->net) < 0)
		die(EX_USAGE, "bad network '%s' for --client: want an IPv4 or "
		    "IPv6 address or CIDR range (not a host name)",
		    tok ? tok : "");
	while ((tok = strtok_r(NULL, ",", &save)) != NULL) {
		if (strncmp(tok, "shared_key=", 11) == 0 && tok[11] && !cl->key)
			cl->key = xstrdup(tok + 11);
		else if (strncmp(tok, "users=", 6) == 0 && !cl->nusers)
			client_users(cl, tok + 6, arg);
		else
			die(EX_USAGE, "bad setting '%s' for --client: want "
			    "shared_key=KEY or users=NAME[:NAME...], once each",
			    tok);
	}
	free(s);
}

/* Is name a --user? */
static int
is_user(const char *name)
{
	int i;

	for (i = 0; i < o.nusers; i++)
		if (strcmp(o.users[i].name, name) == 0)
			return 1;
	return 0;
}

/* After every option: what --client and --allow-anonymous-source need. */
void
client_check(void)
{
	int i, j;

	if ((o.nclients || o.deny_anon) && !o.shared_key)
		die(EX_USAGE, "--client and --allow-anonymous-source need "
		    "--shared-key (the handshake)");
	if (o.deny_anon && !o.nclients)
		die(EX_USAGE, "--allow-anonymous-source no needs --client");
	for (i = 0; i < o.nclients; i++)
		for (j = 0; j < o.clients[i].nusers; j++)
			if (!is_user(o.clients[i].users[j]))
				die(EX_USAGE, "user '%s' of --client users= is "
				    "not a --user", o.clients[i].users[j]);
}

/* The first --client whose network holds sa, or NULL. */
const struct client *
client_find(const struct sockaddr *sa)
{
	int i;

	if (sa->sa_family != AF_INET && sa->sa_family != AF_INET6)
		return NULL;
	for (i = 0; i < o.nclients; i++)
		if (net_cidr_match(&o.clients[i].net, sa))
			return &o.clients[i];
	return NULL;
}

/* May the user name[0..len) log in from cl: is it in its users=? */
int
client_user_ok(const struct client *cl, const char *name, size_t len)
{
	int i;

	if (!cl || !cl->nusers)
		return 1;
	for (i = 0; i < cl->nusers; i++)
		if (strlen(cl->users[i]) == len &&
		    memcmp(cl->users[i], name, len) == 0)
			return 1;
	return 0;
}

void
client_free(void)
{
	int i, j;

	for (i = 0; i < o.nclients; i++) {
		free(o.clients[i].key);
		for (j = 0; j < o.clients[i].nusers; j++)
			free(o.clients[i].users[j]);
	}
}
