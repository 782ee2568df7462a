/*
 * tmpl_lib.h: the counted string and table functions of the template
 * sandbox (tmpl_lib.c), and the charge they pay (tmpl.c).
 */
#ifndef TMPL_LIB_H
#define TMPL_LIB_H

#include <lua.h>

/* Counts n steps of work against the running template's budget; raises
 * the limit error when it is spent. */
void tmpl_charge(lua_State *L, lua_Unsigned n);

/* string.rep, find, match, gmatch, gsub, as Lua 5.4's, counted */
int tmpl_counted_rep(lua_State *L);
int tmpl_counted_find(lua_State *L);
int tmpl_counted_match(lua_State *L);
int tmpl_counted_gmatch(lua_State *L);
int tmpl_counted_gsub(lua_State *L);
/* table.insert, remove, move, concat, unpack, sort, as Lua 5.4's, counted */
int tmpl_counted_insert(lua_State *L);
int tmpl_counted_remove(lua_State *L);
int tmpl_counted_move(lua_State *L);
int tmpl_counted_concat(lua_State *L);
int tmpl_counted_unpack(lua_State *L);
int tmpl_counted_sort(lua_State *L);

#endif
