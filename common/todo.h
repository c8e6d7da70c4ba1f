/*
 * todo.h - the starter code's mark for a part you have not written yet.
 *
 * In the handout, each part of a step that is yours to write calls todo()
 * where your code goes. Reached, it stops the program at once, with one
 * line on stderr that names the part, where it is and the tests that check
 * it, and exit status TODO_STATUS:
 *
 *	server: TODO not written: open_listener() at server.c:72; its tests:
 *	tests/01-tcp-echo.bats, every test that starts a server
 *
 * so that a test which needs that part fails at once, saying why, instead
 * of waiting for an answer that never comes. Replace the call by your code.
 * The reference code never calls it.
 */
#ifndef TODO_H
#define TODO_H

/* The exit status of a program stopped by todo(). */
#define TODO_STATUS 3

/*
 * Stops the program: see above. TESTS names the tests that check the part,
 * starting with their file.
 */
#define todo(tests) todo_stop(__FILE__, __LINE__, __func__, (tests))

/*
 * What todo() calls, with where it is: prints the line (the file without a
 * leading "../"), then ends the whole process, every thread, with
 * TODO_STATUS, as _exit() does: no atexit() handler runs.
 */
_Noreturn void todo_stop(const char *file, int line, const char *func,
			 const char *tests);

#endif
